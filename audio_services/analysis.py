"""One-call analysis of an uploaded track: loudness, clipping, tempo, beats and key.

:func:`analyze_file` is what the upload pipeline runs (in a process pool) and
writes into the project document; the
:class:`~audio_services.waveform.WaveformPyramid` is built in the same pass
and stored as an object, never in the document. :func:`analyze` does the same
for an array in memory.

The audio is read once, block by block (:class:`TrackAnalyzer`): libebur128
takes each block for loudness and loudness range, the vectorised meter of
:mod:`audio_services.true_peak` (libebur128's interpolator, five times faster)
for the true peak, clipping runs carry over block edges, and a mono copy at
22.05 kHz (resampled as it streams) feeds the onset and key accumulators of
:mod:`audio_services.spectral` and :mod:`audio_services.key`. Only per-hop
features outlive a block, so an hour costs the memory of a few seconds.

No librosa on this path: every step is numpy, scipy or libebur128, so the first
job in a fresh worker pays no numba JIT compilation (13-30 s measured for
librosa's beat tracker). :func:`warm_up` still exists to load the native
libraries and FFT plans before the first real job.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.audio_io import DEFAULT_MAX_DURATION_S, to_mono
from jacameno.audio_services.errors import AudioDecodeError
from jacameno.audio_services.key import KeyAccumulator, KeyResult
from jacameno.audio_services.metering import LOUDNESS_MODE, LoudnessMeter, amplitude_to_db
from jacameno.audio_services.resampling import StreamResampler
from jacameno.audio_services.result_json import JsonObject, json_object
from jacameno.audio_services.sources import ArraySource, BlockSource, FileSource
from jacameno.audio_services.spectral import OnsetAccumulator
from jacameno.audio_services.tempo import (
    ANALYSIS_SAMPLE_RATE,
    HOP,
    N_FFT,
    TempoResult,
    tempo_from_onsets,
)
from jacameno.audio_services.true_peak import TruePeakMeter
from jacameno.audio_services.waveform import WaveformPyramid, WaveformPyramidBuilder

__all__ = [
    "CLIP_LEVEL",
    "MIN_CLIP_RUN_FRAMES",
    "AnalysisResult",
    "ClippingCounter",
    "ClippingReport",
    "TrackAnalyzer",
    "analyze",
    "analyze_file",
    "analyze_source",
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
    result, _ = analyze_source(
        ArraySource(_as_audio(samples), sample_rate), beats_per_bar=beats_per_bar, waveform=False
    )
    return result


def analyze_file(
    path: str | os.PathLike[str],
    *,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    beats_per_bar: int = 4,
) -> tuple[AnalysisResult, WaveformPyramid]:
    """Analyse an audio file and build its waveform pyramid in one streamed pass.

    Limits are checked from the header first (:class:`AudioLimitError`).
    """
    result, pyramid = analyze_source(
        FileSource(path, max_duration_s=max_duration_s), beats_per_bar=beats_per_bar
    )
    assert pyramid is not None
    return result, pyramid


def analyze_source(
    source: BlockSource, *, beats_per_bar: int = 4, waveform: bool = True
) -> tuple[AnalysisResult, WaveformPyramid | None]:
    """:func:`analyze` of any block source, with its waveform pyramid unless ``waveform=False``."""
    analyzer = TrackAnalyzer(source.sample_rate, source.channels, beats_per_bar=beats_per_bar)
    builder = (
        WaveformPyramidBuilder(source.sample_rate, source.channels, source.frames_hint)
        if waveform
        else None
    )
    for block in source.blocks():
        analyzer.add(block)
        if builder is not None:
            builder.add(block)
    result = analyzer.result()
    return result, None if builder is None else builder.finish()


class TrackAnalyzer:
    """Every figure of :class:`AnalysisResult`, from consecutive finite float32 blocks."""

    def __init__(self, sample_rate: int, channels: int, *, beats_per_bar: int = 4) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.beats_per_bar = beats_per_bar
        self.frames = 0
        self._loudness = LoudnessMeter(sample_rate, channels, LOUDNESS_MODE)
        self._peaks = TruePeakMeter(sample_rate, channels)
        self._clipping = ClippingCounter(channels)
        self._resampler = StreamResampler(sample_rate, ANALYSIS_SAMPLE_RATE, 1)
        self._onsets = OnsetAccumulator(ANALYSIS_SAMPLE_RATE, n_fft=N_FFT, hop=HOP)
        self._key = KeyAccumulator(ANALYSIS_SAMPLE_RATE)

    def add(self, block: FloatArray) -> None:
        """Take the next ``(channels, frames)`` block."""
        self.frames += block.shape[1]
        self._loudness.add(block)
        self._peaks.add(block)
        self._clipping.add(block)
        self._add_mono(self._resampler.push(to_mono(block)))

    def result(self) -> AnalysisResult:
        """The figures of everything added; :class:`AudioDecodeError` if that was nothing."""
        if self.frames == 0:
            raise AudioDecodeError("the audio holds zero frames")
        self._add_mono(self._resampler.finish())
        true_peak = self._peaks.finish()
        return AnalysisResult(
            duration_s=self.frames / self.sample_rate,
            sample_rate=self.sample_rate,
            channels=self.channels,
            frames=self.frames,
            integrated_lufs=round(self._loudness.integrated_lufs, 3),
            loudness_range_lu=round(self._loudness.loudness_range_lu, 3),
            true_peak_dbtp=round(amplitude_to_db(true_peak), 3),
            sample_peak_dbfs=round(amplitude_to_db(self._peaks.sample_peak), 3),
            clipping=self._clipping.report(),
            tempo=tempo_from_onsets(self._onsets.result(), beats_per_bar=self.beats_per_bar),
            key=self._key.result(),
        )

    def _add_mono(self, mono: FloatArray) -> None:
        if mono.shape[1]:
            self._onsets.add(mono[0])
            self._key.add(mono[0])


def detect_clipping(
    samples: FloatArray,
    *,
    clip_level: float = CLIP_LEVEL,
    min_run_frames: int = MIN_CLIP_RUN_FRAMES,
) -> ClippingReport:
    """Find runs of consecutive ``|x| >= clip_level`` samples in ``(channels, frames)`` audio."""
    counter = ClippingCounter(
        samples.shape[0], clip_level=clip_level, min_run_frames=min_run_frames
    )
    counter.add(samples)
    return counter.report()


class ClippingCounter:
    """:func:`detect_clipping` over consecutive blocks; runs carry over block edges."""

    def __init__(
        self,
        channels: int,
        *,
        clip_level: float = CLIP_LEVEL,
        min_run_frames: int = MIN_CLIP_RUN_FRAMES,
    ) -> None:
        self.clip_level = clip_level
        self.min_run_frames = min_run_frames
        self._open_runs = [0] * channels  # full-scale frames at the end of the last block
        self._events = self._clipped = self._longest = self._full_scale = self._samples = 0

    def add(self, block: FloatArray) -> None:
        """Take the next ``(channels, frames)`` block."""
        at_full_scale = np.abs(block) >= self.clip_level
        self._full_scale += int(at_full_scale.sum())
        self._samples += block.size
        for channel, flags in enumerate(at_full_scale):
            open_run = self._open_runs[channel]
            if not flags.any():
                self._close(open_run)
                self._open_runs[channel] = 0
                continue
            edges = np.diff(flags.astype(np.int8), prepend=0, append=0)
            runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
            if flags[0]:
                runs[0] += open_run
            else:
                self._close(open_run)
            self._open_runs[channel] = int(runs[-1]) if flags[-1] else 0
            self._close_all(runs[:-1] if flags[-1] else runs)

    def report(self) -> ClippingReport:
        """The runs found so far, open runs closed at the last frame."""
        for open_run in self._open_runs:
            self._close(open_run)
        self._open_runs = [0] * len(self._open_runs)
        return ClippingReport(
            clip_events=self._events,
            clipped_samples=self._clipped,
            full_scale_samples=self._full_scale,
            longest_run_frames=self._longest,
            clipped_fraction=self._clipped / self._samples if self._samples else 0.0,
            is_clipped=self._events > 0,
        )

    def _close(self, run: int) -> None:
        if run > 0:
            self._close_all(np.array([run]))

    def _close_all(self, runs: npt.NDArray[np.int64]) -> None:
        if not len(runs):
            return
        self._longest = max(self._longest, int(runs.max()))
        long_runs = runs[runs >= self.min_run_frames]
        self._events += len(long_runs)
        self._clipped += int(long_runs.sum())


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
