"""``POST /api/v1/projects/{id}/midi``: import a Standard MIDI File (editor or owner).

Each part of the file that holds notes becomes a MIDI track with one clip from 0 s
(its instrument the part's program; see :mod:`audio_services.midi_files`). A project
with no tracks yet takes the file's tempo and time signature; otherwise the notes keep
their beats in the project's tempo. Counted against the upload rate limit; the file
may be 1 MiB (``JACAMENO_MAX_BODY_BYTES``) and hold 100,000 notes at most.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import require_project_role
from jacameno.api.db.models import ProjectRole
from jacameno.api.errors import UnsupportedMediaTypeError, ValidationFailedError
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.services import require_principal, services_of
from jacameno.audio_services.midi_files import MidiImport, read_midi_file
from jacameno.docs_model import ProjectDocument

IMPORT_ORIGIN = "service:api"
#: Beats of room left after an imported part's last note, inside its clip.
TAIL_BEATS = 1.0


async def import_midi(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
    await services.rate_limits.hit("upload_user", principal.actor)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaTypeError("send multipart/form-data with the .mid as 'file'")
    async with request.form(max_files=1, max_fields=2) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailedError("the form field 'file' must be the MIDI file")
        data = await upload.read()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "import.mid"
        path.write_bytes(data)
        imported = await anyio.to_thread.run_sync(read_midi_file, path)
    if not imported.parts:
        raise ValidationFailedError("the MIDI file holds no notes")
    async with services.rooms.document(project_id, origin=IMPORT_ORIGIN) as doc:
        added = _apply(ProjectDocument(doc), imported)
    return json_response(added, 201)


def _apply(project: ProjectDocument, imported: MidiImport) -> dict[str, Any]:
    """Write the imported parts into the document, in one transaction."""
    with project.doc.transaction(origin=IMPORT_ORIGIN):
        if not project.tracks_in_order():
            project.set_meta(
                bpm=imported.bpm or project.get_meta().bpm,
                **({"time_signature": imported.time_signature} if imported.time_signature else {}),
                origin=IMPORT_ORIGIN,
            )
        bpm = project.get_meta().bpm
        tracks = []
        for part in imported.parts:
            track_id = project.add_track(
                part.name[:200], "midi", instrument=part.instrument, origin=IMPORT_ORIGIN
            )
            duration_s = (part.length_beats + TAIL_BEATS) * 60.0 / bpm
            clip_id = project.add_midi_clip(
                track_id, start_s=0.0, duration_s=duration_s, origin=IMPORT_ORIGIN
            )
            for note in part.notes:
                project.add_note(
                    track_id,
                    clip_id,
                    pitch=int(note["pitch"]),
                    velocity=int(note["velocity"]),
                    start_beats=note["start_beats"],
                    length_beats=note["length_beats"],
                    origin=IMPORT_ORIGIN,
                )
            tracks.append(
                {
                    "track_id": track_id,
                    "clip_id": clip_id,
                    "name": part.name,
                    "instrument": part.instrument,
                    "notes": len(part.notes),
                }
            )
    return {"tracks": tracks, "bpm": bpm, "notes": list(imported.notes)}


routes = [
    ApiRoute(
        "/api/v1/projects/{project_id}/midi",
        import_midi,
        method="POST",
        summary="Import a Standard MIDI File as MIDI tracks",
        tag="audio",
        status=201,
        errors=(400, 401, 403, 404, 413, 415, 422, 429),
    ),
]
