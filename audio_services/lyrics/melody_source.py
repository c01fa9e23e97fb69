"""Where a melody to fit comes from: the coaching of a track in the project document."""

from __future__ import annotations

from collections.abc import Mapping

from jacameno.audio_services.lyrics.model import LyricsError
from jacameno.docs_model import ProjectDocument
from jacameno.docs_model.errors import UnknownTrackError

__all__ = ["melody_of"]


def melody_of(project: ProjectDocument, track_id: str) -> Mapping[str, object]:
    """The coaching summary of ``track_id``, whose ``phrases`` give the syllables.

    Raises :class:`LyricsError` when the track is not in the project or has not been
    coached yet.
    """
    try:
        track = project.get_track(track_id)
    except UnknownTrackError:
        raise LyricsError(f"track {track_id} is not in the project") from None
    coaching = project.get_coaching(track.id)
    if coaching is None:
        raise LyricsError(
            f"track {track.name!r} has not been coached yet: run coaching on it first,"
            " so its phrases can give the syllables"
        )
    return coaching.summary
