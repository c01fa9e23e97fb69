"""A job's tracks as the mixer and the exports play them: each track's clips as
arranged (or, without clips, its asset from 0 s), every file streamed and resampled
to one rate as it is read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jacameno.audio_services.arrangement import ArrangedSource, Placement
from jacameno.audio_services.errors import AudioLimitError
from jacameno.audio_services.midi_render import MidiTrackSource, find_soundfont
from jacameno.audio_services.mixing import Stem
from jacameno.audio_services.sources import BlockSource, FileSource, ResampledSource

__all__ = ["MAX_MIX_SAMPLE_RATE", "arranged", "stems_of"]

#: Highest sample rate a mix is rendered at, in Hz (stems above it are resampled).
MAX_MIX_SAMPLE_RATE = 96_000
#: The rate of a song that has only MIDI tracks, in Hz.
MIDI_SAMPLE_RATE = 48_000


def arranged(
    clips: Sequence[dict[str, Any]], files: dict[str, str], sample_rate: int, max_duration_s: float
) -> ArrangedSource:
    """A track's clips as arranged, at ``sample_rate``."""
    placements = [
        Placement.of_clip(
            clip,
            ResampledSource(
                FileSource(files[clip["asset_id"]], max_duration_s=max_duration_s), sample_rate
            ),
        )
        for clip in clips
    ]
    return ArrangedSource(placements, sample_rate)


def stems_of(
    tracks: Sequence[dict[str, Any]], files: dict[str, str], max_duration_s: float
) -> tuple[list[Stem], int]:
    """The stems of a job's ``tracks`` (see :func:`~audio_services.jobs.document.stem_inputs`)
    and the rate they play at: the highest of their files', at most 96 kHz."""
    opened: dict[str, FileSource] = {}
    for track in tracks:
        if track.get("midi"):
            continue
        clips = track.get("clips") or ()
        for asset_id in [clip["asset_id"] for clip in clips] or [track["asset_id"]]:
            if asset_id in opened:
                continue
            source = opened[asset_id] = FileSource(files[asset_id], max_duration_s=max_duration_s)
            if source.channels > 2:
                raise AudioLimitError(
                    f"track {track['name']!r} has {source.channels} channels; the mixer takes"
                    " mono or stereo stems (bounce surround stems to stereo first)"
                )
    rates = [source.sample_rate for source in opened.values()]
    sample_rate = min(max(rates, default=MIDI_SAMPLE_RATE), MAX_MIX_SAMPLE_RATE)
    soundfont = find_soundfont() if any(track.get("midi") for track in tracks) else None
    stems = []
    for track in tracks:
        clips = track.get("clips") or ()
        midi = track.get("midi")
        played: BlockSource
        if midi:
            assert soundfont is not None
            played = MidiTrackSource(
                midi["clips"],
                bpm=float(midi["bpm"]),
                instrument=int(midi["instrument"]),
                sample_rate=sample_rate,
                soundfont=soundfont,
            )
        elif clips:
            played = arranged(clips, files, sample_rate, max_duration_s)
        else:
            played = ResampledSource(opened[track["asset_id"]], sample_rate)
        stems.append(Stem.from_track(track, played))
    return stems, sample_rate
