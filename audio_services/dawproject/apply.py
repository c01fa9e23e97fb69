"""`apply_import`: an `ImportedProject` written into an empty document through the
document's own writers, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping

from jacameno.docs_model import Origin, ProjectDocument
from jacameno.docs_model.automation import Lane

from .errors import DawProjectError
from .model import ImportedProject

__all__ = ["apply_import"]


def apply_import(
    project: ProjectDocument,
    imported: ImportedProject,
    asset_ids: Mapping[str, str],
    *,
    origin: Origin = None,
) -> None:
    """Write ``imported`` (meta, tracks in order with their clips, MIDI clips with their
    notes, and automation) into ``project``, which must have no tracks yet.

    ``asset_ids`` maps each audio path in the archive (the keys of
    ``imported.audio``) to the id of the asset made from it. They are checked before
    the first write, since a document transaction cannot roll back; the values an
    import yields are within the ranges the document's writers accept.
    """
    if len(project.roots.tracks) > 0:
        raise DawProjectError(
            "apply_import writes into an empty document, and this one has tracks: "
            "import into a new project"
        )
    wanted = {clip.audio_path for track in imported.tracks for clip in track.clips}
    missing = sorted(wanted - set(asset_ids))
    if missing:
        raise DawProjectError(
            f"no asset id given for {', '.join(missing)}: add each file of imported.audio "
            "as an asset and pass its id in asset_ids"
        )
    meta = imported.meta
    with project.doc.transaction(origin=origin):
        project.set_meta(
            title=meta.title,
            bpm=meta.bpm,
            time_signature=meta.time_signature,
            key=meta.key,
            origin=origin,
        )
        for track in imported.tracks:
            track_id = project.add_track(
                track.name,
                track.kind,
                volume_db=track.volume_db,
                pan=track.pan,
                mute=track.mute,
                solo=track.solo,
                instrument=track.instrument,
                origin=origin,
            )
            for clip in track.clips:
                project.add_clip(
                    track_id,
                    asset_ids[clip.audio_path],
                    start_s=clip.start_s,
                    duration_s=clip.duration_s,
                    offset_s=clip.offset_s,
                    gain_db=clip.gain_db,
                    fade_in_s=clip.fade_in_s,
                    fade_out_s=clip.fade_out_s,
                    loop_count=clip.loop_count,
                    origin=origin,
                )
            for midi in track.midi_clips:
                clip_id = project.add_midi_clip(
                    track_id, start_s=midi.start_s, duration_s=midi.duration_s, origin=origin
                )
                for note in midi.notes:
                    project.add_note(
                        track_id,
                        clip_id,
                        pitch=note.pitch,
                        velocity=note.velocity,
                        start_beats=note.start_beats,
                        length_beats=note.length_beats,
                        origin=origin,
                    )
            for lane, points in (
                (Lane.VOLUME, track.volume_automation),
                (Lane.PAN, track.pan_automation),
            ):
                if points:
                    project.set_automation(track_id, lane, points, origin=origin)
