"""A generated demo song: drums, bass, chords and a sung melody, as separate stems.

:func:`demo_song` is pure and deterministic (one ``seed``): ten bars at
:data:`DEMO_TEMPO_BPM` in :data:`DEMO_KEY` (i-iv-V-i twice, then iv-i), 24.6 s at
44.1 kHz. It is what ``jacameno demo`` puts in a newcomer's first project, so
the stems are built to give every service something to say:

- drums (kick, snare, eighth-note hats, 3 ms of timing jitter) carry the tempo;
- bass and chords (six harmonics per tone, the root doubled an octave down)
  carry the key, the E major chord's G# marking it as minor;
- the singer (three vowel formants, 30-cent vibrato) is mostly in tune and on
  the beat, with the flaws listed in :attr:`DemoSong.flaws`: one long note sung
  40 cents flat and one onset 80 ms late, for coaching to find.

Every stem is ``float32`` shaped ``(channels, frames)`` and peaks under
-6 dBFS; drums and chords are stereo, bass and vocal mono.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.intonation import ReferenceNote

__all__ = [
    "DEMO_KEY",
    "DEMO_SAMPLE_RATE",
    "DEMO_TEMPO_BPM",
    "DemoFlaw",
    "DemoSong",
    "demo_song",
]

FloatArray = npt.NDArray[np.float32]
_Float64 = npt.NDArray[np.float64]

DEMO_TEMPO_BPM = 100.0
DEMO_KEY = "A minor"
DEMO_SAMPLE_RATE = 44_100
_BEATS_PER_BAR = 4
_FIRST_BEAT_S = 0.1
_PEAK_DBFS = -6.0

# Chord roots and intervals, one chord per bar: Am Dm E Am, Am Dm E Am, Dm Am.
_CHORDS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (57, (0, 3, 7)), (62, (0, 3, 7)), (64, (0, 4, 7)), (57, (0, 3, 7)),
    (57, (0, 3, 7)), (62, (0, 3, 7)), (64, (0, 4, 7)), (57, (0, 3, 7)),
    (62, (0, 3, 7)), (57, (0, 3, 7)),
)  # fmt: skip
# The melody as (first beat, length in beats, MIDI note), from bar 2 to bar 9;
# all in A natural minor so the key's scale judges every note.
_MELODY: tuple[tuple[int, int, int], ...] = (
    (4, 1, 69), (5, 1, 72), (6, 2, 74),   # Dm
    (8, 1, 71), (9, 1, 67), (10, 2, 64),  # E
    (12, 1, 69), (13, 1, 72), (14, 2, 76),  # Am
    (16, 2, 76), (18, 1, 74), (19, 1, 72),  # Am
    (20, 1, 74), (21, 1, 77), (22, 2, 74),  # Dm
    (24, 1, 71), (25, 1, 74), (26, 2, 71),  # E
    (28, 4, 69),                            # Am
    (32, 2, 74), (34, 2, 72),               # Dm
)  # fmt: skip
# The singer's flaws: (melody index, cents) and (melody index, onset delay in ms).
_FLAT_NOTE, _FLAT_CENTS = 6 + 3, -40.0  # the two-beat E5 in bar 5, 1.2 s long
_LATE_NOTE, _LATE_MS = 13, 80.0  # the F5 in bar 6
_NOTE_GAP_S = 0.08  # breath between sung notes, so each onset is sung afresh
# Vowel "ah": formant centre (Hz), bandwidth (Hz) and relative gain.
_FORMANTS = ((700.0, 130.0, 1.0), (1220.0, 70.0, 0.5), (2600.0, 160.0, 0.25))


@dataclass(frozen=True, slots=True)
class DemoFlaw:
    """A deliberate mistake in the sung take: ``kind`` is ``"flat"`` or ``"late"``;
    ``amount`` is in cents (flat, negative) or milliseconds (late, positive)."""

    kind: str
    start_s: float
    end_s: float
    amount: float


@dataclass(frozen=True, slots=True)
class DemoSong:
    """The stems (name -> ``(channels, frames)`` float32) and what they were made from.

    ``melody`` is the score the singer aimed at (usable as a coaching reference);
    ``beat_times_s`` the beat grid, starting at ``first_beat_s``.
    """

    stems: dict[str, FloatArray]
    sample_rate: int
    tempo_bpm: float
    key: str
    first_beat_s: float
    duration_s: float
    melody: tuple[ReferenceNote, ...]
    flaws: tuple[DemoFlaw, ...]

    @property
    def beat_times_s(self) -> list[float]:
        period_s = 60.0 / self.tempo_bpm
        count = len(_CHORDS) * _BEATS_PER_BAR
        return [round(self.first_beat_s + index * period_s, 6) for index in range(count)]


def demo_song(seed: int = 0, sample_rate: int = DEMO_SAMPLE_RATE) -> DemoSong:
    """Generate the demo song's four stems at ``sample_rate`` Hz (same ``seed``, same song)."""
    if not 8_000 <= sample_rate <= 192_000:
        raise ValueError(f"sample_rate must be 8000-192000 Hz, got {sample_rate}")
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / DEMO_TEMPO_BPM
    duration_s = _FIRST_BEAT_S + len(_CHORDS) * _BEATS_PER_BAR * beat_s + 0.5
    num_frames = round(duration_s * sample_rate)
    melody = tuple(
        ReferenceNote(
            round(_FIRST_BEAT_S + beat * beat_s, 6),
            round(_FIRST_BEAT_S + (beat + beats) * beat_s - _NOTE_GAP_S, 6),
            float(midi),
        )
        for beat, beats, midi in _MELODY
    )
    flat, late = melody[_FLAT_NOTE], melody[_LATE_NOTE]
    flaws = (
        DemoFlaw("flat", flat.start_s, flat.end_s, _FLAT_CENTS),
        DemoFlaw("late", late.start_s + _LATE_MS / 1000, late.end_s, _LATE_MS),
    )
    stems = {
        "drums": _drums(rng, num_frames, sample_rate, beat_s),
        "bass": _bass(num_frames, sample_rate, beat_s),
        "chords": _chords(num_frames, sample_rate, beat_s),
        "vocal": _vocal(rng, melody, num_frames, sample_rate),
    }
    return DemoSong(
        stems={name: _normalised(audio) for name, audio in stems.items()},
        sample_rate=sample_rate,
        tempo_bpm=DEMO_TEMPO_BPM,
        key=DEMO_KEY,
        first_beat_s=_FIRST_BEAT_S,
        duration_s=num_frames / sample_rate,
        melody=melody,
        flaws=flaws,
    )


def _seconds(length_s: float, sample_rate: int) -> _Float64:
    return np.arange(round(length_s * sample_rate)) / sample_rate


def _add(out: _Float64, start_s: float, sound: _Float64, sample_rate: int) -> None:
    start = round(start_s * sample_rate)
    end = min(start + sound.shape[-1], out.shape[-1])
    if 0 <= start < end:
        out[..., start:end] += sound[..., : end - start]


def _hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def _drums(rng: np.random.Generator, num_frames: int, sample_rate: int, beat_s: float) -> _Float64:
    """Kick on 1 and 3, snare on 2 and 4, hats on every eighth (panned right)."""
    out = np.zeros((2, num_frames))
    t_kick, t_snare, t_hat = (_seconds(s, sample_rate) for s in (0.3, 0.2, 0.06))
    kick = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t_kick / 0.03)) / sample_rate)
    kick *= 0.9 * np.exp(-t_kick / 0.12)
    body = 0.3 * np.sin(2 * np.pi * 190 * t_snare) * np.exp(-t_snare / 0.05)
    for step in range(len(_CHORDS) * _BEATS_PER_BAR * 2):
        at_s = _FIRST_BEAT_S + step * beat_s / 2 + rng.uniform(-0.003, 0.003)
        velocity = rng.uniform(0.9, 1.0)
        hat = 0.03 * np.diff(rng.standard_normal(len(t_hat) + 2), n=2) * np.exp(-t_hat / 0.015)
        _add(out, at_s, velocity * np.stack([0.7 * hat, hat]), sample_rate)
        if step % 8 in (0, 4):
            _add(out, at_s, velocity * np.stack([kick, kick]), sample_rate)
        elif step % 8 in (2, 6):
            noise = np.diff(rng.standard_normal(len(t_snare) + 1)) * np.exp(-t_snare / 0.06)
            snare = 0.17 * noise + body
            _add(out, at_s, velocity * np.stack([snare, snare]), sample_rate)
    return out


def _bass(num_frames: int, sample_rate: int, beat_s: float) -> _Float64:
    """The chord root two octaves down, plucked on every beat (eight harmonics)."""
    out = np.zeros((1, num_frames))
    time_s = _seconds(beat_s * 0.95, sample_rate)
    envelope = np.minimum(time_s / 0.005, 1.0) * np.exp(-time_s / 0.35)
    for bar, (root, _) in enumerate(_CHORDS):
        f0 = _hz(root - 24 + 12 * (root < 60))
        tone = sum(np.sin(2 * np.pi * k * f0 * time_s) / k for k in range(1, 9))
        for beat in range(_BEATS_PER_BAR):
            at_s = _FIRST_BEAT_S + (bar * _BEATS_PER_BAR + beat) * beat_s
            _add(out, at_s, (tone * envelope)[None, :], sample_rate)
    return out


def _chords(num_frames: int, sample_rate: int, beat_s: float) -> _Float64:
    """One chord per bar, struck twice, root doubled an octave down; slightly wide."""
    out = np.zeros((2, num_frames))
    time_s = _seconds(2 * beat_s, sample_rate)
    envelope = np.minimum(time_s / 0.01, 1.0) * np.exp(-time_s / 1.5)
    for bar, (root, intervals) in enumerate(_CHORDS):
        notes = [root - 12] + [root + interval for interval in intervals]
        left, right = np.zeros(len(time_s)), np.zeros(len(time_s))
        for index, note in enumerate(notes):
            f0 = _hz(note)
            partials = sum(
                0.1 / k * np.sin(2 * np.pi * k * f0 * time_s)
                for k in range(1, 7)
                if k * f0 < sample_rate / 2
            )
            pan = 0.5 + 0.15 * (index - 1.5) / 1.5
            left += np.sqrt(1 - pan) * partials
            right += np.sqrt(pan) * partials
        chord = np.stack([left, right]) * envelope
        for half in range(2):
            at_s = _FIRST_BEAT_S + (bar * _BEATS_PER_BAR + 2 * half) * beat_s
            _add(out, at_s, chord, sample_rate)
    return out


def _vocal(
    rng: np.random.Generator,
    melody: Sequence[ReferenceNote],
    num_frames: int,
    sample_rate: int,
) -> _Float64:
    """A formant-filtered harmonic voice singing ``melody``, with the flaws built in."""
    out = np.zeros((1, num_frames))
    for index, note in enumerate(melody):
        start_s = note.start_s + (_LATE_MS / 1000 if index == _LATE_NOTE else 0.0)
        time_s = _seconds(note.end_s - start_s, sample_rate)
        wobble = np.sin(2 * np.pi * 5.5 * time_s + rng.uniform(0, 2 * np.pi))
        cents = 30.0 * wobble * np.minimum(time_s / 0.3, 1.0)
        if index == _FLAT_NOTE:
            cents += _FLAT_CENTS
        f0 = _hz(note.midi) * 2.0 ** (cents / 1200)
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate
        voice = np.zeros(len(time_s))
        for k in range(1, 60):
            if k * f0.max() > min(sample_rate / 2 - 500, 8_000):
                break
            gain = 0.05 + sum(a / (1 + ((k * f0 - fc) / bw) ** 2) for fc, bw, a in _FORMANTS)
            voice += gain / np.sqrt(k) * np.sin(k * phase)
        attack_release = np.minimum(time_s / 0.03, (time_s[-1] - time_s) / 0.05)
        voice *= np.clip(attack_release, 0.0, 1.0) / np.max(np.abs(voice))
        _add(out, start_s, voice[None, :], sample_rate)
    out += 3e-4 * rng.standard_normal(out.shape)  # a quiet room
    return out


def _normalised(audio: _Float64) -> FloatArray:
    peak = float(np.max(np.abs(audio)))
    gain = 10 ** (_PEAK_DBFS / 20) / peak if peak > 0 else 1.0
    scaled: FloatArray = (audio * gain).astype(np.float32)
    return scaled
