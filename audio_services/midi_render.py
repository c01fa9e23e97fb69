"""MIDI tracks heard through a real SoundFont synthesizer (FluidSynth).

A MIDI track's clips hold notes in beats from each clip's start; the song's tempo
turns them into seconds, and each note becomes a note-on and a note-off at an exact
sample (a note past its clip's end is cut there). :class:`MidiTrackSource` plays
them through FluidSynth with a General MIDI SoundFont, rendering exactly up to each
event before applying it, so onsets are sample-accurate. It is a block source like an
audio track: the mixer, the stems and the exports play it the same way.

The SoundFont comes from the system: ``JACAMENO_SOUNDFONT``, else Debian's
``timgm6mb-soundfont`` (6 MB, the one the browser plays too) or
``fluid-soundfont-gm``; ``make synth-deps`` installs the first.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jacameno.audio_services.errors import AudioLimitError, AudioProcessingError
from jacameno.audio_services.sources import BLOCK_FRAMES, FloatArray

__all__ = [
    "SOUNDFONT_PATHS",
    "MidiTrackSource",
    "NoteEvent",
    "SoundFontMissingError",
    "find_soundfont",
    "note_events",
]

#: Where Debian's General MIDI SoundFonts are, in order of preference.
SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
#: Seconds after the last note-off that are rendered (the instrument's release).
RELEASE_S = 1.0
#: FluidSynth's master gain: a chord of a few notes stays well clear of full scale.
SYNTH_GAIN = 0.5


class SoundFontMissingError(AudioProcessingError):
    """No SoundFont to play MIDI with."""


def find_soundfont(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The SoundFont to use: ``explicit``, ``JACAMENO_SOUNDFONT``, or Debian's."""
    for candidate in (explicit, os.environ.get("JACAMENO_SOUNDFONT"), *SOUNDFONT_PATHS):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise SoundFontMissingError(
        "no General MIDI SoundFont found: install Debian's timgm6mb-soundfont"
        " (make synth-deps) or set JACAMENO_SOUNDFONT to an .sf2 file"
    )


@dataclass(frozen=True, slots=True, order=True)
class NoteEvent:
    """A note-on (``velocity`` > 0) or note-off (``velocity`` 0) at ``sample``."""

    sample: int
    velocity: int
    pitch: int


def note_events(
    clips: Sequence[Mapping[str, Any]], bpm: float, sample_rate: int
) -> list[NoteEvent]:
    """Every note of ``clips`` as sample-exact events, in time order (offs first)."""
    if not bpm > 0:
        raise AudioLimitError(f"the tempo must be above 0 bpm, got {bpm}")
    seconds_per_beat = 60.0 / bpm
    events: list[NoteEvent] = []
    for clip in clips:
        start_s, duration_s = float(clip["start_s"]), float(clip["duration_s"])
        clip_end = round((start_s + duration_s) * sample_rate)
        for note in clip.get("notes") or ():
            begin_s = start_s + float(note["start_beats"]) * seconds_per_beat
            on = round(begin_s * sample_rate)
            off = min(
                round((begin_s + float(note["length_beats"]) * seconds_per_beat) * sample_rate),
                clip_end,
            )
            if on >= clip_end or off <= on:
                continue
            pitch, velocity = int(note["pitch"]), int(note.get("velocity", 100))
            events.append(NoteEvent(on, max(1, min(127, velocity)), pitch))
            events.append(NoteEvent(off, 0, pitch))
    events.sort()
    return events


class MidiTrackSource:
    """A MIDI track as a stereo block source at ``sample_rate`` (see the module doc).

    FluidSynth starts a note at the first of its 64-frame blocks after the call, so a
    note-on could land up to 63 frames late (1.4 ms at 44.1 kHz). Notes are therefore
    spread over :data:`PASSES` synthesizers whose timelines are offset by 32 frames
    from each other, each note played by the one that starts it soonest (at most 31
    frames late, 0.70 ms at 44.1 kHz); their voices add up (reverb and chorus, which
    the mixer adds itself, are off), so the sum is the same song. Note-offs keep the
    64-frame grid of their synthesizer. (Four passes, 15 frames at most, cost 1.6x
    the render time in bench/bench_arrangement.py; two cost what one does.)
    """

    frames_exact = True

    def __init__(
        self,
        clips: Sequence[Mapping[str, Any]],
        *,
        bpm: float,
        instrument: int,
        sample_rate: int,
        soundfont: Path,
    ) -> None:
        if not 0 <= instrument <= 127:
            raise AudioLimitError(f"a General MIDI instrument is 0 to 127, got {instrument}")
        self.events = note_events(clips, bpm, sample_rate)
        self.instrument = instrument
        self.soundfont = soundfont
        self._sample_rate = sample_rate
        last = self.events[-1].sample if self.events else 0
        self._frames = last + round(RELEASE_S * sample_rate) if self.events else 0

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def channels(self) -> int:
        return 2

    @property
    def frames_hint(self) -> int:
        return self._frames

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        passes = [
            _Pass(self, index * _PASS_STEP, events)
            for index, events in enumerate(_spread(self.events))
            if events
        ]
        try:
            for first in range(0, self._frames, block_frames):
                count = min(block_frames, self._frames - first)
                block = np.zeros((2, count), np.float32)
                for synth_pass in passes:
                    block += synth_pass.read(count)
                yield block
        finally:
            for synth_pass in passes:
                synth_pass.close()


#: FluidSynth's block: events take effect at its start.
_SYNTH_BLOCK = 64
PASSES = 2
_PASS_STEP = _SYNTH_BLOCK // PASSES


def _spread(events: Sequence[NoteEvent]) -> list[list[NoteEvent]]:
    """Each note (its on and its off) given to the pass that starts it soonest."""
    passes: list[list[NoteEvent]] = [[] for _ in range(PASSES)]
    playing: dict[int, list[int]] = {}  # pitch -> passes holding its open notes
    for event in events:
        if event.velocity:
            lag = [(-(event.sample + index * _PASS_STEP)) % _SYNTH_BLOCK for index in range(PASSES)]
            chosen = lag.index(min(lag))
            playing.setdefault(event.pitch, []).append(chosen)
        else:
            holders = playing.get(event.pitch)
            if not holders:
                continue
            chosen = holders.pop(0)
        passes[chosen].append(event)
    return passes


class _Pass:
    """One synthesizer whose timeline runs ``offset`` frames ahead of the output."""

    def __init__(self, source: MidiTrackSource, offset: int, events: list[NoteEvent]) -> None:
        fluidsynth = _fluidsynth()

        self.synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(source.sample_rate))
        self.synth.setting("synth.reverb.active", 0)
        self.synth.setting("synth.chorus.active", 0)
        font = self.synth.sfload(str(source.soundfont))
        if font < 0:
            self.synth.delete()
            raise SoundFontMissingError(f"FluidSynth cannot load {source.soundfont}")
        self.synth.program_select(0, font, 0, source.instrument)
        self.events = iter([NoteEvent(e.sample + offset, e.velocity, e.pitch) for e in events])
        self.next_event = next(self.events, None)
        self.position = 0
        self.voices = 0  # notes started since the synth was last silent
        self._render(offset)  # the output starts ``offset`` frames into this timeline

    def read(self, count: int) -> FloatArray:
        return self._render(count)

    def _render(self, count: int) -> FloatArray:
        out = np.zeros((2, count), np.float32)
        done = 0
        while done < count:
            event = self.next_event
            stop = self.position + count - done
            if event is not None and event.sample < stop:
                stop = event.sample
            if stop > self.position:
                frames = stop - self.position
                # Silent between notes: skip whole synth blocks (the output is already
                # zero there), keeping the block grid where the events expect it.
                idle = frames - frames % _SYNTH_BLOCK if self._silent() else 0
                if frames - idle:
                    _write_float(self.synth, out[:, done + idle : done + frames])
                done += frames
                self.position = stop
            if event is not None and event.sample <= self.position:
                if event.velocity:
                    self.synth.noteon(0, event.pitch, event.velocity)
                    self.voices += 1
                else:
                    self.synth.noteoff(0, event.pitch)
                self.next_event = next(self.events, None)
        return out

    def _silent(self) -> bool:
        """No voice sounds (every note ended and its release faded)."""
        if self.voices == 0:
            return True
        active = int(_active_voices()(self.synth.synth))
        if active == 0:
            self.voices = 0
        return active == 0

    def close(self) -> None:
        self.synth.delete()


def _write_float(synth: Any, out: FloatArray) -> None:
    """Render ``out.shape[1]`` frames of ``synth`` into the float32 rows of ``out``."""
    frames = out.shape[1]
    left = np.empty(frames, np.float32)
    right = np.empty(frames, np.float32)
    _fluid_write_float()(synth.synth, frames, left.ctypes.data, 0, 1, right.ctypes.data, 0, 1)
    out[0] = left
    out[1] = right


def _fluidsynth() -> Any:
    """pyfluidsynth, loaded by the processes that play MIDI (it loads libfluidsynth)."""
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:
        raise SoundFontMissingError(
            f"FluidSynth is not installed ({exc}): install Debian's libfluidsynth3"
            " (make synth-deps) to hear MIDI tracks"
        ) from exc
    return fluidsynth


@functools.cache
def _active_voices() -> Any:
    """``fluid_synth_get_active_voice_count``: voices still sounding (releases included)."""
    from ctypes import c_int, c_void_p

    return _fluidsynth().cfunc("fluid_synth_get_active_voice_count", c_int, ("synth", c_void_p, 1))


@functools.cache
def _fluid_write_float() -> Any:
    """``fluid_synth_write_float`` (pyfluidsynth wraps only the 16-bit, dithered one)."""
    from ctypes import c_int, c_void_p

    return _fluidsynth().cfunc(
        "fluid_synth_write_float",
        c_int,
        ("synth", c_void_p, 1),
        ("len", c_int, 1),
        ("lout", c_void_p, 1),
        ("loff", c_int, 1),
        ("lincr", c_int, 1),
        ("rout", c_void_p, 1),
        ("roff", c_int, 1),
        ("rincr", c_int, 1),
    )
