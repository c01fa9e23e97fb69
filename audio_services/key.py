"""Musical key from a pitch-class profile (chroma) and key profiles.

Chroma comes from spectral peaks of a long-window STFT (2.7 Hz bins at
22.05 kHz), each peak refined by parabolic interpolation and credited to its
nearest pitch class in proportion to how close it lies to the semitone, after a
global tuning offset is removed (bands tuned to A = 435 or 446 Hz still read
right). The whole-track profile is correlated with the 24 rotations of a major
and a minor key profile (Krumhansl-Schmuckler method; profiles from Albrecht &
Shanahan 2013, "The use of large corpora to train a new type of key-finding
algorithm", which are sharper than Krumhansl-Kessler's on the relative-minor
ambiguity).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from jacameno.audio_services.notes import PITCH_CLASS_NAMES
from jacameno.audio_services.result_json import JsonObject, json_object
from jacameno.audio_services.spectral import Float64Array, FloatArray, StftStream, mono_at_rate

__all__ = ["PITCH_CLASS_NAMES", "KeyAccumulator", "KeyResult", "estimate_key", "key_from_signal"]

ANALYSIS_SAMPLE_RATE = 22_050
N_FFT = 8192
HOP = 4096
MIN_HZ = 55.0  # A1: lower bins are too coarse (2.7 Hz is a whole semitone at 46 Hz)
MAX_HZ = 2_000.0  # above B6 mostly harmonics and noise, which blur the profile
# Histogram bins per semitone: a peak's position within its bin moves its
# pitch-class weight by under 1e-4 (the bin's weighted centroid is used).
_BINS_PER_SEMITONE = 1000
MIN_CORRELATION = 0.7
"""Below this no key is reported. Measured: chord progressions 0.95-0.99 (with or
without loud drums), drums alone 0.62, one sustained tone 0.60, noise 0.31."""

# Albrecht & Shanahan (2013), tonic first.
_MAJOR_PROFILE = np.array(
    [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081]
)
_MINOR_PROFILE = np.array(
    [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052]
)

Mode = Literal["major", "minor"]


@dataclass(frozen=True, slots=True)
class KeyResult:
    """A key such as "A minor".

    ``correlation`` is the Pearson correlation of the track's chroma with the
    key profile; ``confidence`` is its margin over the best other key (0-1;
    under ~0.05 the choice is a coin toss, usually with the relative key).
    ``tuning_cents`` is the detected offset of the tuning from A = 440 Hz.
    """

    name: str
    tonic: str
    mode: Mode
    confidence: float
    correlation: float
    tuning_cents: float
    chroma: tuple[float, ...]

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


def estimate_key(samples: FloatArray, sample_rate: int) -> KeyResult | None:
    """Estimate the key of ``(channels, frames)`` audio.

    ``None`` when nothing is tonal enough to have one (silence, noise, drums, a
    lone tone): the best key profile correlates below ``MIN_CORRELATION``.
    """
    mono = mono_at_rate(samples, sample_rate, ANALYSIS_SAMPLE_RATE)
    return key_from_signal(mono, ANALYSIS_SAMPLE_RATE)


def key_from_signal(mono: FloatArray, sample_rate: int) -> KeyResult | None:
    """Key of a 1-D mono signal at ``sample_rate`` Hz."""
    accumulator = KeyAccumulator(sample_rate)
    accumulator.add(mono)
    return accumulator.result()


class KeyAccumulator:
    """The key of a 1-D mono signal fed in consecutive pieces, in constant memory."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._stft = StftStream(N_FFT, HOP)
        self._tuning_phasor = 0j
        bins = 12 * _BINS_PER_SEMITONE
        self._weight = np.zeros(bins)  # per position in the octave
        self._weighted_position = np.zeros(bins)

    def add(self, mono: FloatArray) -> None:
        """Take the next samples."""
        for power in self._stft.push(mono):
            self._add_power(power)

    def result(self) -> KeyResult | None:
        """The best key of everything added; ``None`` when nothing is tonal enough."""
        for power in self._stft.finish():
            self._add_power(power)
        if self._weight.sum() <= 0.0:
            return None
        tuning_semitones = float(np.angle(self._tuning_phasor) / (2 * np.pi))
        used = self._weight > 0
        position = self._weighted_position[used] / self._weight[used]
        chroma = _chroma(position - tuning_semitones, self._weight[used])
        return _best_key(chroma, tuning_semitones)

    def _add_power(self, power: FloatArray) -> None:
        if power.any():  # silence has no peaks
            self._add_peaks(*_spectral_peaks(power, self.sample_rate))

    def _add_peaks(self, midi: Float64Array, weight: Float64Array) -> None:
        if not len(midi):
            return
        self._tuning_phasor += complex(
            np.sum(weight * np.exp(2j * np.pi * (midi - np.round(midi))))
        )
        position = np.mod(midi, 12.0)
        bins = np.minimum((position * _BINS_PER_SEMITONE).astype(np.int64), len(self._weight) - 1)
        self._weight += np.bincount(bins, weights=weight, minlength=len(self._weight))
        self._weighted_position += np.bincount(
            bins, weights=weight * position, minlength=len(self._weight)
        )


def _best_key(chroma: Float64Array, tuning_semitones: float) -> KeyResult | None:
    scores = _key_scores(chroma)
    order = np.argsort(scores)[::-1]
    best, runner_up = int(order[0]), int(order[1])
    if scores[best] < MIN_CORRELATION:
        return None
    tonic = PITCH_CLASS_NAMES[best % 12]
    mode: Mode = "major" if best < 12 else "minor"
    return KeyResult(
        name=f"{tonic} {mode}",
        tonic=tonic,
        mode=mode,
        confidence=round(float(np.clip(scores[best] - scores[runner_up], 0.0, 1.0)), 4),
        correlation=round(float(scores[best]), 4),
        tuning_cents=round(100.0 * tuning_semitones, 1),
        chroma=tuple(round(float(value), 4) for value in chroma),
    )


def _spectral_peaks(power: FloatArray, sample_rate: int) -> tuple[Float64Array, Float64Array]:
    """MIDI pitch and weight of every spectral peak between MIN_HZ and MAX_HZ in a batch."""
    bin_hz = sample_rate / N_FFT
    low_bin, high_bin = int(MIN_HZ / bin_hz), int(MAX_HZ / bin_hz) + 2
    # Square root twice: magnitude, then a loudness-like compression so that a
    # loud bass note does not outweigh the chord above it.
    mag = np.sqrt(np.sqrt(power[:, low_bin - 1 : high_bin + 1].astype(np.float64)))
    left, centre, right = mag[:, :-2], mag[:, 1:-1], mag[:, 2:]
    # Peaks only, and only above a tenth of their frame's largest: the rest is
    # window leakage and noise.
    frame_peak = centre.max(axis=1, keepdims=True)
    is_peak = (centre > left) & (centre >= right) & (centre > 0.1 * frame_peak)
    frames, bins = np.nonzero(is_peak)
    a, b, c = left[frames, bins], centre[frames, bins], right[frames, bins]
    denominator = a - 2 * b + c
    shift = np.where(denominator < 0, 0.5 * (a - c) / np.where(denominator < 0, denominator, -1), 0)
    frequency_hz = (low_bin + bins + shift) * bin_hz
    return 69.0 + 12.0 * np.log2(frequency_hz / 440.0), b


def _chroma(midi: Float64Array, weight: Float64Array) -> Float64Array:
    deviation = midi - np.round(midi)
    # A peak halfway between semitones says nothing about either.
    closeness = np.exp(-0.5 * (deviation / 0.15) ** 2)
    pitch_class = np.mod(np.round(midi).astype(np.int64), 12)
    chroma = np.bincount(pitch_class, weights=weight * closeness, minlength=12).astype(np.float64)
    total = chroma.sum()
    return chroma / total if total > 0 else chroma


def _key_scores(chroma: Float64Array) -> Float64Array:
    """Pearson correlation with the 12 major then the 12 minor keys."""
    scores = np.empty(24)
    for tonic in range(12):
        rotated = np.roll(chroma, -tonic)
        scores[tonic] = np.corrcoef(rotated, _MAJOR_PROFILE)[0, 1]
        scores[12 + tonic] = np.corrcoef(rotated, _MINOR_PROFILE)[0, 1]
    return np.nan_to_num(scores, nan=-1.0)
