"""``POST /api/v1/projects/import``: a DAWproject file becomes a new project (users only).

Multipart ``file`` (a ``.dawproject`` zip) and optional ``name``. The archive is
checked and read (:mod:`audio_services.dawproject`: hostile archives refused); its
audio files are checked like uploads and stored as the new project's assets (against
the caller's storage quota); the arrangement (tracks, clips, fades, loops, mixer
settings, automation, tempo and metre) is written into the new document; and each
audio file is analysed for its waveform like an upload. The answer is 201 with the
project and what the import could not keep (``warnings``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import delete
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.asset_store import asset_key
from jacameno.api.auth.permissions import require_user
from jacameno.api.db.models import Asset, ProjectRole, new_id
from jacameno.api.errors import (
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.quota import StorageQuota
from jacameno.api.routes.projects import create_owned_project, project_out
from jacameno.api.routes.tracks import ACCEPTED_FORMATS, check_audio
from jacameno.api.schemas import ProjectCreate
from jacameno.api.services import AppServices, require_principal, services_of
from jacameno.audio_services.dawproject import ImportedProject, apply_import, import_dawproject
from jacameno.audio_services.jobs.protocol import JobRefusedError
from jacameno.docs_model import ProjectDocument

IMPORT_ORIGIN = "service:api"
CHUNK_BYTES = 1 << 20


async def import_project(request: Request) -> Response:
    services = services_of(request)
    settings = services.settings
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
    await services.rate_limits.hit("upload_user", user.actor)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaTypeError("send multipart/form-data with the .dawproject as 'file'")
    with tempfile.TemporaryDirectory() as folder:
        async with request.form(max_files=1, max_fields=4) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailedError("the form field 'file' must be the .dawproject file")
            name = form.get("name")
            archive = Path(folder) / "import.dawproject"
            with archive.open("wb") as out:
                while chunk := await upload.read(CHUNK_BYTES):
                    out.write(chunk)
        imported = await anyio.to_thread.run_sync(
            import_dawproject, archive, Path(folder) / "audio"
        )
        quota = StorageQuota(settings.storage_quota_mb_per_user)
        size = sum(path.stat().st_size for path in imported.audio.values())
        async with services.database.session() as session:
            room_left = await quota.room_left(session, user.user_id)
        if room_left is not None and size > room_left:
            raise PayloadTooLargeError(
                f"the project's audio ({size} bytes) does not fit in your storage quota"
                f" ({room_left} bytes left)",
                details={"reason": "storage_quota", "upload_bytes": size},
            )
        title = name if isinstance(name, str) and name.strip() else imported.meta.title
        body = ProjectCreate.model_validate(
            {
                "name": title.strip()[:200] or "Imported project",
                "bpm": imported.meta.bpm,
                "time_signature": imported.meta.time_signature,
            }
        )
        project = await create_owned_project(services, user, body)
        stored = await _store_audio(services, project.id, user.user_id, imported)
    async with services.rooms.document(project.id, origin=IMPORT_ORIGIN) as doc:
        apply_import(ProjectDocument(doc), imported, stored, origin=IMPORT_ORIGIN)
    warnings = list(imported.warnings) + await _analyse(services, project.id, user.actor)
    return json_response(
        {
            "project": project_out(project, ProjectRole.OWNER).model_dump(mode="json"),
            "tracks": len(imported.tracks),
            "warnings": warnings,
        },
        201,
    )


async def _store_audio(
    services: AppServices, project_id: str, owner: str, imported: ImportedProject
) -> dict[str, str]:
    """Each audio file of the archive checked and stored as an asset; path -> asset id."""
    stored: dict[str, str] = {}
    keys: list[str] = []
    try:
        for archive_path, local in imported.audio.items():
            with local.open("rb") as file:
                info = await anyio.to_thread.run_sync(
                    check_audio, file, services.settings.max_audio_duration_s
                )
            asset_id = new_id()
            key = asset_key(project_id, asset_id, local.name[:255])
            keys.append(key)

            async def chunks(path: Path = local) -> Any:
                with path.open("rb") as source:
                    while chunk := source.read(CHUNK_BYTES):
                        yield chunk

            content_type = ACCEPTED_FORMATS[info.format]
            put = await services.store.put(key, chunks(), content_type=content_type)
            async with services.database.session() as session:
                session.add(
                    Asset(
                        id=asset_id,
                        project_id=project_id,
                        storage_key=key,
                        kind="upload",
                        filename=local.name[:255],
                        content_type=content_type,
                        size_bytes=put.size_bytes,
                        sha256=put.sha256,
                        duration_s=info.duration_s,
                        sample_rate=info.sample_rate,
                        channels=info.channels,
                        created_by=owner,
                    )
                )
            stored[archive_path] = asset_id
    except BaseException:
        with anyio.CancelScope(shield=True):
            async with services.database.session() as session:
                await session.execute(delete(Asset).where(Asset.id.in_(list(stored.values()))))
            for key in keys:
                await services.store.delete(key)
        raise
    return stored


async def _analyse(services: AppServices, project_id: str, actor: str) -> list[str]:
    """An analysis job per stored asset (its waveform and figures), as uploads get."""
    warnings = []
    async with services.rooms.document(project_id, origin=IMPORT_ORIGIN) as doc:
        tracks = ProjectDocument(doc).tracks_in_order()
    first_use: dict[str, str] = {}
    for track in tracks:
        for clip in track.clips:
            first_use.setdefault(clip.asset_id, track.id)
    for asset_id, track_id in first_use.items():
        try:
            await services.jobs.request(
                project_id, "analysis", {"asset_id": asset_id, "track_id": track_id}, actor
            )
        except JobRefusedError as exc:
            warnings.append(f"asset {asset_id} was not analysed: {exc}")
    return warnings


routes = [
    ApiRoute(
        "/api/v1/projects/import",
        import_project,
        method="POST",
        summary="Create a project from a DAWproject file (multipart: file[, name])",
        tag="projects",
        status=201,
        errors=(400, 401, 403, 413, 415, 422, 429),
    ),
]
