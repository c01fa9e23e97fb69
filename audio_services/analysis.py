"""One-call analysis of an uploaded track: loudness, clipping, tempo, beats and key.

:func:`analyze` is what the upload pipeline runs (in a process pool) and writes
into the project document; :class:`~audio_services.waveform.WaveformPyramid`
is built alongside it and stored as an object, never in the document.

No librosa on this path: every step is numpy, scipy or libebur128, so the first
job in a fresh worker pays no numba JIT compilation (13-30 s measured for
librosa's beat tracker). :func:`warm_up` still exists to load the native
libraries and FFT plans before the first real job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from audio_services.errors import AudioDecodeError
from audio_services.key import KeyResult, key_from_signal
from audio_services.metering import measure_loudness
from audio_services.result_json import JsonObject, json_object
from audio_services.spectral import mono_at_rate, onset_strength
from audio_services.tempo import ANALYSIS_SAMPLE_RATE, HOP, N_FFT, TempoResult, tempo_from_onsets

__all__ = [
    "CLIP_LEVEL",
    "MIN_CLIP_RUN_FRAMES",
    "AnalysisResult",
    "ClippingReport",
    "analyze",
    "detect_clipping",
    "warm_up",
]

FloatArray = npt.NDArray[np.float32]

CLIP_LEVEL = 0.9999
"""|sample| at or above this is at full scale (-0.0009 dBFS; 16-bit full scale decodes
to 32767/32768 = 0.99997)."""
MIN_CLIP_RUN_FRAMES = 3
"""Consecutive full-scale samples that make a clip; one or two can be a legitimate peak."""


@dataclass(frozen=True, slots=True)
class ClippingReport:
    """Runs of at least ``MIN_CLIP_RUN_FRAMES`` consecutive full-scale samples, any channel.

    ``clipped_samples`` counts the samples inside such runs, ``full_scale_samples``
    every sample at or over full scale; ``clipped_fraction`` is
    ``clipped_samples`` over all samples (frames times channels).
    """

    clip_events: int
    clipped_samples: int
    full_scale_samples: int
    longest_run_frames: int
    clipped_fraction: float
    is_clipped: bool

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """Everything the upload pipeline records about a track.

    Loudness per BS.1770-4 / EBU R128 (``-inf`` for silence; ``None`` in JSON).
    ``key`` is ``None`` for unpitched audio; ``tempo.tempo_bpm`` is 0 for
    arrhythmic audio.
    """

    duration_s: float
    sample_rate: int
    channels: int
    frames: int
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    clipping: ClippingReport
    tempo: TempoResult
    key: KeyResult | None

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


def analyze(samples: npt.ArrayLike, sample_rate: int, *, beats_per_bar: int = 4) -> AnalysisResult:
    """Analyse ``(channels, frames)`` float audio at ``sample_rate`` Hz.

    ``beats_per_bar`` is the meter assumed for downbeats (4 unless the project's
    time signature says otherwise). Raises :class:`AudioDecodeError` for empty
    or non-finite input and :class:`AudioLimitError` for channel counts or
    sample rates the loudness meter does not support.
    """
    audio = _as_audio(samples)
    loudness = measure_loudness(audio, sample_rate)
    mono = mono_at_rate(audio, sample_rate, ANALYSIS_SAMPLE_RATE)
    onsets = onset_strength(mono, ANALYSIS_SAMPLE_RATE, n_fft=N_FFT, hop=HOP)
    return AnalysisResult(
        duration_s=audio.shape[1] / sample_rate,
        sample_rate=sample_rate,
        channels=int(audio.shape[0]),
        frames=int(audio.shape[1]),
        integrated_lufs=round(loudness.integrated_lufs, 3),
        loudness_range_lu=round(loudness.loudness_range_lu, 3),
        true_peak_dbtp=round(loudness.true_peak_dbtp, 3),
        sample_peak_dbfs=round(loudness.sample_peak_dbfs, 3),
        clipping=detect_clipping(audio),
        tempo=tempo_from_onsets(onsets, beats_per_bar=beats_per_bar),
        key=key_from_signal(mono, ANALYSIS_SAMPLE_RATE),
    )


def detect_clipping(
    samples: FloatArray,
    *,
    clip_level: float = CLIP_LEVEL,
    min_run_frames: int = MIN_CLIP_RUN_FRAMES,
) -> ClippingReport:
    """Find runs of consecutive ``|x| >= clip_level`` samples in ``(channels, frames)`` audio."""
    at_full_scale = np.abs(samples) >= clip_level
    events = clipped = longest = 0
    for channel in at_full_scale:
        if not channel.any():
            continue
        edges = np.diff(channel.astype(np.int8), prepend=0, append=0)
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        runs = ends - starts
        long_runs = runs[runs >= min_run_frames]
        events += len(long_runs)
        clipped += int(long_runs.sum())
        longest = max(longest, int(runs.max()))
    return ClippingReport(
        clip_events=events,
        clipped_samples=clipped,
        full_scale_samples=int(at_full_scale.sum()),
        longest_run_frames=longest,
        clipped_fraction=clipped / samples.size if samples.size else 0.0,
        is_clipped=events > 0,
    )


def warm_up() -> None:
    """Run one tiny analysis so a fresh worker's first real job starts at full speed."""
    sample_rate = 22_050
    time_s = np.arange(4 * sample_rate) / sample_rate
    clicks = (np.sin(2 * np.pi * 220.0 * time_s) * np.exp(-((time_s % 0.5) * 20.0))).astype(
        np.float32
    )
    analyze(np.stack([clicks, clicks]), sample_rate)


def _as_audio(samples: npt.ArrayLike) -> FloatArray:
    audio = np.asarray(samples, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None, :]
    if audio.ndim != 2 or audio.shape[1] == 0:
        raise AudioDecodeError(
            f"audio must be (channels, frames) with frames > 0, got {audio.shape}"
        )
    if not np.isfinite(audio).all():
        raise AudioDecodeError("audio holds NaN or inf samples; load it with audio_io.load_audio")
    return np.ascontiguousarray(audio)
