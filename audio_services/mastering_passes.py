"""The mastering passes over a block source (the what is in :mod:`audio_services.mastering`).

:class:`Shaper` runs the chain before the limiter (reference EQ, stereo width,
low cut, tilt, normalising gain, compressor, soft clipper) afresh in every
pass, block by block; its control pass also keeps the shaped signal in a
temporary file within the job's disk budget, so that rendering passes read it
back instead of shaping again. :meth:`Shaper.render` limits, scales, meters
and writes one pass; :func:`measure` and :func:`equalised_loudness` are the
measuring passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pedalboard

# pedalboard's own stubs do not re-export Pedalboard explicitly.
from pedalboard import Pedalboard  # type: ignore[attr-defined]

from jacameno.audio_services.errors import AudioProcessingError
from jacameno.audio_services.loudness_search import LimiterControl, LimiterGainSearch
from jacameno.audio_services.mastering_settings import MasterSettings
from jacameno.audio_services.metering import (
    LOUDNESS_MODE,
    LoudnessMeter,
    LoudnessReport,
    amplitude_to_db,
    db_to_amplitude,
)
from jacameno.audio_services.reference_match import StreamingFir, WelchAccumulator
from jacameno.audio_services.sinks import AudioSink
from jacameno.audio_services.sources import BLOCK_FRAMES, BlockSource
from jacameno.audio_services.spill import DiskBudget, KeptBlocks
from jacameno.audio_services.true_peak import TruePeakMeter

__all__ = ["Rendered", "Shaper", "equalised_loudness", "measure", "set_stereo_width", "soft_clip"]

FloatArray = npt.NDArray[np.float32]

# The clipper's asymptote sits this far above the ceiling, its knee 4 dB lower.
_CLIP_ABOVE_CEILING_DB = 2.0
_CLIP_KNEE_DB = 4.0
_TILT_PIVOT_HZ = 1_000.0


@dataclass(frozen=True, slots=True)
class Rendered:
    """Measurements of one rendered pass."""

    frames: int
    lufs: float
    lra: float
    true_peak: float
    sample_peak: float
    min_gain: float

    def report(self, sample_rate: int, channels: int) -> LoudnessReport:
        return LoudnessReport(
            integrated_lufs=self.lufs,
            loudness_range_lu=self.lra,
            true_peak_dbtp=amplitude_to_db(self.true_peak),
            sample_peak_dbfs=amplitude_to_db(self.sample_peak),
            num_seconds=self.frames / sample_rate,
            sample_rate=sample_rate,
            num_channels=channels,
        )


class Shaper:
    """Reference EQ, width, the pedalboard chain and the clipper, fresh for every pass.

    The shaped signal of the control pass is kept in a temporary file while the
    job's :class:`~audio_services.spill.DiskBudget` lasts (a 3 min stereo track
    takes 64 MB), and the rendering passes read it back instead of shaping again.
    """

    def __init__(
        self,
        source: BlockSource,
        settings: MasterSettings,
        target_lufs: float,
        input_lufs: float,
        taps: npt.NDArray[np.float64] | None,
    ) -> None:
        self.source = source
        self.sample_rate = source.sample_rate
        self.channels = source.channels
        self.settings = settings
        self.target_lufs = target_lufs
        self.input_lufs = input_lufs
        self.taps = taps
        self._budget = DiskBudget()
        self._kept: KeptBlocks | None = None

    def close(self) -> None:
        """Drop the kept shaped signal."""
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    def blocks(self) -> Iterator[FloatArray]:
        """The shaped signal, block by block (a new pass from the start)."""
        if self._kept is not None:
            return self._kept.blocks(BLOCK_FRAMES)
        return self._shaped()

    def _shaped(self) -> Iterator[FloatArray]:
        board = self._board()
        equaliser = None if self.taps is None else StreamingFir(self.taps, self.channels)
        for block in self.source.blocks():
            piece = block if equaliser is None else equaliser.push(block)
            if piece.shape[1]:
                yield self._shape(board, piece)
        if equaliser is not None:
            tail = equaliser.finish()
            if tail.shape[1]:
                yield self._shape(board, tail)

    def search(self, ceiling: float, exact_up_to_db: float) -> LimiterGainSearch:
        """One pass: the shaped signal's control rows, ready to search."""
        control = LimiterControl(self.sample_rate, self.channels, ceiling, exact_up_to_db)
        self.close()
        kept = KeptBlocks(self.channels, self._budget)
        for block in self._shaped():
            control.add(block)
            kept.keep(block)
        control.finish()
        self._kept = kept if kept.complete else None
        return LimiterGainSearch(
            control, ceiling, self.settings.limiter_lookahead_ms, self.settings.limiter_release_ms
        )

    def render(
        self, sink: AudioSink, search: LimiterGainSearch, gain_db: float, trim: float = 1.0
    ) -> Rendered:
        """One pass: shaped, limited, scaled, measured and written to ``sink``."""
        scale = np.float32(db_to_amplitude(gain_db) * trim)
        gains = _Pieces(search.frame_gains(gain_db))
        limiting = search.limits(gain_db)
        meter = LoudnessMeter(self.sample_rate, self.channels, LOUDNESS_MODE)
        peaks = TruePeakMeter(self.sample_rate, self.channels)
        min_gain = 1.0
        sink.begin()
        for block in self.blocks():
            if limiting:
                curve = gains.take(block.shape[1])
                min_gain = min(min_gain, float(curve.min()))
                out = (block * (curve * scale)[np.newaxis, :]).astype(np.float32, copy=False)
            else:
                out = (block * scale).astype(np.float32, copy=False)
            if not np.isfinite(out).all():
                raise AudioProcessingError("mastering produced NaN or inf samples")
            meter.add(out)
            peaks.add(out)
            sink.write(out)
        sink.end()
        true_peak = peaks.finish()
        return Rendered(
            frames=meter.num_frames,
            lufs=meter.integrated_lufs,
            lra=meter.loudness_range_lu,
            true_peak=true_peak,
            sample_peak=peaks.sample_peak,
            min_gain=min_gain,
        )

    def _board(self) -> Pedalboard:
        settings = self.settings
        plugins: list[pedalboard.Plugin] = []
        if settings.low_cut_hz is not None:
            # Two first-order sections: 12 dB/octave, -6 dB at the cutoff.
            cutoff_hz = min(settings.low_cut_hz, 0.45 * self.sample_rate)
            plugins += [pedalboard.HighpassFilter(cutoff_hz), pedalboard.HighpassFilter(cutoff_hz)]
        if settings.tilt_db:
            half_db = settings.tilt_db / 2.0
            plugins += [
                pedalboard.LowShelfFilter(_TILT_PIVOT_HZ, -half_db, 0.5),
                pedalboard.HighShelfFilter(_TILT_PIVOT_HZ, half_db, 0.5),
            ]
        plugins.append(pedalboard.Gain(self.target_lufs - self.input_lufs))
        if settings.compression_ratio > 1.0:
            plugins.append(
                pedalboard.Compressor(
                    threshold_db=self.target_lufs + settings.compressor_threshold_lu,
                    ratio=settings.compression_ratio,
                    attack_ms=settings.compressor_attack_ms,
                    release_ms=settings.compressor_release_ms,
                )
            )
        return Pedalboard(plugins)

    def _shape(self, board: Pedalboard, block: FloatArray) -> FloatArray:
        settings = self.settings
        if block.shape[0] == 2 and settings.stereo_width != 1.0:
            block = set_stereo_width(block, settings.stereo_width)
        shaped = np.ascontiguousarray(board(block, self.sample_rate, reset=False), dtype=np.float32)
        if settings.uses_clipper:
            limit = db_to_amplitude(settings.ceiling_dbtp + _CLIP_ABOVE_CEILING_DB)
            shaped = soft_clip(shaped, limit)
        return shaped


class _Pieces:
    """Takes consecutive runs of values from an iterator of arrays."""

    def __init__(self, pieces: Iterator[FloatArray]) -> None:
        self._pieces = pieces
        self._buffer = np.zeros(0, np.float32)

    def take(self, count: int) -> FloatArray:
        parts, available = [self._buffer], len(self._buffer)
        while available < count:
            piece = next(self._pieces, None)
            if piece is None:
                raise AssertionError("the limiter curve ended before the audio")
            parts.append(piece)
            available += len(piece)
        data = np.concatenate(parts) if len(parts) > 1 else self._buffer
        self._buffer = data[count:]
        return data[:count]


def measure(
    source: BlockSource, *, spectrum: bool
) -> tuple[LoudnessReport, WelchAccumulator | None]:
    """Loudness, range, peaks (and the long-term spectrum if asked) in one pass."""
    meter = LoudnessMeter(source.sample_rate, source.channels, LOUDNESS_MODE)
    peaks = TruePeakMeter(source.sample_rate, source.channels)
    welch = WelchAccumulator(source.sample_rate) if spectrum else None
    for block in source.blocks():
        meter.add(block)
        peaks.add(block)
        if welch is not None:
            welch.add(block)
    report = LoudnessReport(
        integrated_lufs=meter.integrated_lufs,
        loudness_range_lu=meter.loudness_range_lu,
        true_peak_dbtp=amplitude_to_db(peaks.finish()),
        sample_peak_dbfs=amplitude_to_db(peaks.sample_peak),
        num_seconds=meter.num_frames / source.sample_rate,
        sample_rate=source.sample_rate,
        num_channels=source.channels,
    )
    return report, welch


def equalised_loudness(source: BlockSource, taps: npt.NDArray[np.float64]) -> float:
    """Integrated loudness (LUFS) of ``source`` through the matching FIR."""
    meter = LoudnessMeter(source.sample_rate, source.channels, LOUDNESS_MODE)
    equaliser = StreamingFir(taps, source.channels)
    for block in source.blocks():
        meter.add(equaliser.push(block))
    meter.add(equaliser.finish())
    return meter.integrated_lufs


def set_stereo_width(audio: FloatArray, width: float) -> FloatArray:
    """Scale the side signal of stereo audio: 0 mono, 1 unchanged, 2 twice as wide."""
    mid = (audio[0] + audio[1]) * np.float32(0.5)
    side = (audio[0] - audio[1]) * np.float32(0.5 * width)
    return np.stack([mid + side, mid - side])


def soft_clip(audio: FloatArray, limit: float) -> FloatArray:
    """Soft clipper: linear up to a knee 4 dB under ``limit``, tanh up to ``limit``.

    Continuous with slope 1 at the knee, so only the peaks above it change.
    """
    knee = limit * db_to_amplitude(-_CLIP_KNEE_DB)
    out = audio.copy()
    magnitude = np.abs(out)
    loud = magnitude > knee
    if loud.any():
        span = limit - knee
        excess = (magnitude[loud] - knee) / np.float32(span)
        out[loud] = np.sign(out[loud]) * (knee + span * np.tanh(excess))
    return out
