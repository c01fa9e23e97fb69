"""Between the document and the runner: resolving a ``jobs`` entry into a ticket, and
writing an outcome back (results, mix fields, coaching) in one transaction."""

from __future__ import annotations

import contextlib
from typing import Any

from jacameno.audio_services.jobs.exports import EXPORT_FORMATS
from jacameno.audio_services.jobs.protocol import JOB_ORIGIN, JobInputError, JobOutcome, JobTicket
from jacameno.audio_services.lyrics.melody_source import melody_of
from jacameno.audio_services.lyrics.model import LyricsError
from jacameno.docs_model import ProjectDocument, to_json
from jacameno.docs_model.errors import UnknownTrackError
from jacameno.docs_model.schema import AutomationPointView, ClipView, JobView, TrackKind, TrackView

#: Job kinds the coordinator runs (lyrics on the lyrics service, the others on the DSP runner).
RUNNABLE_KINDS = frozenset({"analysis", "mixing", "mastering", "coaching", "lyrics", "export"})
#: Lists longer than this (beat grids) stay out of the document's job result.
MAX_RESULT_LIST = 64
_MASTER_PARAMS = frozenset({"asset_id", "reference_asset_id"})


def resolve_ticket(
    project: ProjectDocument,
    project_id: str,
    job_id: str,
    kind: str,
    params: dict[str, Any],
    requested_by: str = "",
) -> JobTicket:
    """The ticket for a job: its params plus the asset ids and track settings it reads.

    Raises :class:`JobInputError` with a message for the user when inputs are missing.
    """
    params = dict(params)
    resolver = _RESOLVERS.get(kind)
    if resolver is None:
        raise JobInputError(f"no service runs {kind!r} jobs here")
    inputs = resolver(project, params)
    return JobTicket(job_id, project_id, kind, params, inputs, requested_by)


def ticket_for(project: ProjectDocument, job: JobView, project_id: str) -> JobTicket:
    """:func:`resolve_ticket` for a ``jobs`` entry."""
    return resolve_ticket(
        project, project_id, job.id, job.kind.value, dict(job.params), job.requested_by
    )


def _analysis_inputs(project: ProjectDocument, params: dict[str, Any]) -> dict[str, Any]:
    asset_id = params.get("asset_id")
    if not isinstance(asset_id, str) or not asset_id:
        raise JobInputError("an analysis job needs params.asset_id")
    return {"asset_id": asset_id, "track_id": params.get("track_id")}


def _mixing_inputs(project: ProjectDocument, params: dict[str, Any]) -> dict[str, Any]:
    params.setdefault("preset", project.get_mix().preset or "pop")
    return {"stems": stem_inputs(project)}


def stem_inputs(project: ProjectDocument) -> list[dict[str, Any]]:
    """Every track with clips (played as arranged) or, without clips, an asset (played
    from 0 s), with its mixer settings and automation lanes."""
    bpm = project.get_meta().bpm
    stems = [
        {
            "track_id": track.id,
            "asset_id": track.asset_id,
            "clips": [_clip_input(clip) for clip in track.clips],
            "midi": _midi_input(track, bpm) if track.midi_clips else None,
            "name": track.name,
            "kind": track.kind.value,
            "volume_db": track.volume_db,
            "pan": track.pan,
            "mute": track.mute,
            "solo": track.solo,
            "effects": [{"plugin": fx.plugin, "params": fx.params} for fx in track.effects],
            "volume_automation": [_point_input(p) for p in track.volume_automation],
            "pan_automation": [_point_input(p) for p in track.pan_automation],
        }
        for track in project.tracks_in_order()
        if track.clips or track.asset_id or any(clip.notes for clip in track.midi_clips)
    ]
    if not stems:
        raise JobInputError("nothing to play: upload audio to at least one track first")
    return stems


def _export_inputs(project: ProjectDocument, params: dict[str, Any]) -> dict[str, Any]:
    export_format = params.setdefault("format", "stems")
    if export_format not in EXPORT_FORMATS:
        raise JobInputError(
            f"unknown export format {export_format!r}: choose one of {', '.join(EXPORT_FORMATS)}"
        )
    if export_format == "dawproject":
        document = to_json(project)
        asset_ids: set[str] = set()
        for track in project.tracks_in_order():
            played = [clip.asset_id for clip in track.clips]
            asset_ids.update(played or ([track.asset_id] if track.asset_id else []))
        if not asset_ids:
            raise JobInputError("there is no audio to export: upload audio to a track first")
        # Only what the export reads: the document's tracks and meta.
        return {
            "document": {"meta": document["meta"], "tracks": document["tracks"]},
            "asset_ids": sorted(asset_ids),
        }
    if export_format == "midi":
        meta = project.get_meta()
        midi_tracks = [
            {"name": track.name, **_midi_input(track, meta.bpm)}
            for track in project.tracks_in_order()
            if any(clip.notes for clip in track.midi_clips)
        ]
        if not midi_tracks:
            raise JobInputError("there is no MIDI to export: add notes to a MIDI track first")
        return {
            "midi_tracks": midi_tracks,
            "bpm": meta.bpm,
            "time_signature": meta.time_signature,
        }
    params.setdefault("audio_format", "flac")
    return {"stems": stem_inputs(project)}


def _clip_input(clip: ClipView) -> dict[str, Any]:
    return {
        "asset_id": clip.asset_id,
        "start_s": clip.start_s,
        "offset_s": clip.offset_s,
        "duration_s": clip.duration_s,
        "gain_db": clip.gain_db,
        "fade_in_s": clip.fade_in_s,
        "fade_out_s": clip.fade_out_s,
        "fade_in_curve": clip.fade_in_curve.value,
        "fade_out_curve": clip.fade_out_curve.value,
        "loop_count": clip.loop_count,
    }


def _midi_input(track: TrackView, bpm: float) -> dict[str, Any]:
    return {
        "bpm": bpm,
        "instrument": track.instrument or 0,
        "clips": [
            {
                "start_s": clip.start_s,
                "duration_s": clip.duration_s,
                "notes": [
                    {
                        "pitch": note.pitch,
                        "velocity": note.velocity,
                        "start_beats": note.start_beats,
                        "length_beats": note.length_beats,
                    }
                    for note in clip.notes
                ],
            }
            for clip in track.midi_clips
        ],
    }


def _point_input(point: AutomationPointView) -> dict[str, Any]:
    return {"time_s": point.time_s, "value": point.value, "curve": point.curve.value}


def _mastering_inputs(project: ProjectDocument, params: dict[str, Any]) -> dict[str, Any]:
    asset_id = params.get("asset_id") or project.get_mix().render_asset_id
    if not asset_id:
        raise JobInputError(
            "there is no mix to master yet: run a mixing job first (or give params.asset_id)"
        )
    settings = {
        key: value
        for key, value in params.items()
        if key not in _MASTER_PARAMS and value is not None
    }
    return {
        "asset_id": asset_id,
        "reference_asset_id": params.get("reference_asset_id"),
        "settings": settings,
    }


def _coaching_inputs(project: ProjectDocument, params: dict[str, Any]) -> dict[str, Any]:
    track_id = params.get("track_id")
    tracks = project.tracks_in_order()
    if not track_id:
        vocals = [t for t in tracks if t.kind is TrackKind.VOCAL and t.asset_id]
        if not vocals:
            raise JobInputError("coaching needs params.track_id or a vocal track with audio")
        track_id = vocals[0].id
    try:
        track = project.get_track(str(track_id))
    except UnknownTrackError:
        raise JobInputError(f"track {track_id} is not in the project") from None
    if not track.asset_id:
        raise JobInputError(f"track {track.name!r} has no audio to coach")
    return {
        "track_id": track.id,
        "asset_id": track.asset_id,
        # Coached as arranged (song time), when the track has clips.
        "clips": [_clip_input(clip) for clip in track.clips],
        "key": params.get("key") or project.get_meta().key,
        "reference_asset_id": params.get("reference_asset_id"),
    }


def _lyrics_inputs(project: ProjectDocument, params: dict[str, Any]) -> dict[str, Any]:
    theme = params.get("theme")
    if not isinstance(theme, str) or not theme.strip():
        raise JobInputError("a lyrics job needs params.theme (what the lines are about)")
    track_id = params.get("fit_to_track")
    if track_id is None:
        return {}
    try:
        summary = melody_of(project, str(track_id))
    except LyricsError as exc:
        raise JobInputError(str(exc)) from None
    return {"melody": {"phrases": summary.get("phrases")}}


_RESOLVERS = {
    "analysis": _analysis_inputs,
    "mixing": _mixing_inputs,
    "mastering": _mastering_inputs,
    "coaching": _coaching_inputs,
    "lyrics": _lyrics_inputs,
    "export": _export_inputs,
}


def document_result(result: dict[str, Any]) -> dict[str, Any]:
    """A job result as the document keeps it: long lists (beat grids, notes) left out."""
    return {key: _trim(value) for key, value in result.items() if key != "notes"}


def _trim(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _trim(item) for key, item in value.items()}
    if isinstance(value, list):
        return None if len(value) > MAX_RESULT_LIST else [_trim(item) for item in value]
    return value


def write_outcome(project: ProjectDocument, ticket: JobTicket, outcome: JobOutcome) -> None:
    """Write ``outcome`` of ``ticket`` into the document in one service-origin transaction.

    Everything is checked by ``docs_model`` before it is written; callers run this
    inside ``rooms.document(...)``, which drops the whole change if anything raises.
    """
    job_id = ticket.job_id
    with project.doc.transaction(origin=JOB_ORIGIN):
        if outcome.status == "failed":
            project.fail(job_id, outcome.error or "the job failed", origin=JOB_ORIGIN)
            return
        result = outcome.result or {}
        if ticket.kind == "mixing":
            project.update_mix(
                preset=result.get("preset"),
                render_asset_id=result.get("render_asset_id"),
                render_loudness_lufs=result.get("integrated_lufs"),
                render_true_peak_dbtp=result.get("true_peak_dbtp"),
                origin=JOB_ORIGIN,
            )
        elif ticket.kind == "mastering":
            output = result.get("output") or {}
            project.update_mix(
                master_asset_id=result.get("master_asset_id"),
                master_loudness_lufs=output.get("integrated_lufs"),
                master_true_peak_dbtp=output.get("true_peak_dbtp"),
                master_settings=result.get("settings"),
                origin=JOB_ORIGIN,
            )
        elif ticket.kind == "lyrics" and isinstance(result.get("suggestion"), dict):
            # Keyed by this job even when its result was reused from an earlier one.
            entry = {**result["suggestion"], "id": job_id, "job_id": job_id}
            project.add_lyrics_suggestion(entry, origin=JOB_ORIGIN)
        elif ticket.kind == "coaching":
            # A track deleted while it was coached keeps only the job's result.
            with contextlib.suppress(UnknownTrackError):
                project.set_coaching(
                    result["track_id"],
                    result.get("summary") or {},
                    result.get("notes") or [],
                    origin=JOB_ORIGIN,
                )
        project.finish(job_id, document_result(result), origin=JOB_ORIGIN)
