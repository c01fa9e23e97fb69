"""Mastering: tone, width, gentle compression, loudness normalisation and a true-peak ceiling.

:func:`master` runs, in order:

1. optional reference matching of the long-term spectrum
   (:mod:`audio_services.reference_match`), whose loudness becomes the target;
2. stereo width (mid/side), low cut and tilt EQ;
3. normalisation to the target loudness (ITU-R BS.1770-4 integrated loudness);
4. a gentle compressor whose threshold sits relative to the target, and for
   loud targets a soft clipper that shaves transients before the limiter;
5. the look-ahead true-peak limiter (:mod:`audio_services.limiter`), with the
   gain into it found by a secant search on *predicted* loudness
   (:mod:`audio_services.loudness_search`: the shaped signal reduced to one
   row per limiter control point, about 5 kHz, and each candidate curve costs
   a weighted sum), then one rendered pass measured with libebur128. A second
   pass, correcting the model's offset, runs only if that measurement misses
   the target by more than 0.1 LU;
6. a verification of the true peak (4x, BS.1770-4) and, if the limiter left a
   residual overshoot, a static trim under the ceiling, rendered again. The
   ceiling therefore always holds, as measured by the same interpolator
   libebur128 uses.

The audio streams through in blocks (:func:`master_source`): the input is read
once to measure it and once to shape it into the limiter's control rows
(the pedalboard chain runs with ``reset=False`` block after block); the shaped
signal is kept in a temporary file within a disk budget for the rendering
passes (past it, they shape the input again, identically), and the output is
written block by block to a sink. Memory is a few blocks and
the control rows (spilled to a temporary file on long tracks), whatever the
duration.

Settings and presets live in :mod:`audio_services.mastering_settings` and are
re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pedalboard

# pedalboard's own stubs do not re-export Pedalboard explicitly.
from pedalboard import Pedalboard  # type: ignore[attr-defined]

from audio_services.errors import AudioLimitError, AudioProcessingError
from audio_services.loudness_search import LimiterControl, LimiterGainSearch
from audio_services.mastering_settings import (
    MASTER_PRESETS,
    TARGET_LUFS_RANGE,
    MasterSettings,
    master_settings,
)
from audio_services.metering import (
    LOUDNESS_MODE,
    AudioArray,
    LoudnessMeter,
    LoudnessReport,
    amplitude_to_db,
    as_audio,
    db_to_amplitude,
)
from audio_services.reference_match import StreamingFir, WelchAccumulator, matching_fir
from audio_services.sinks import ArraySink, AudioSink
from audio_services.sources import BLOCK_FRAMES, ArraySource, BlockSource
from audio_services.spill import DiskBudget, KeptBlocks
from audio_services.true_peak import TruePeakMeter

__all__ = [
    "MASTER_PRESETS",
    "MasterReport",
    "MasterResult",
    "MasterSettings",
    "master",
    "master_settings",
    "master_source",
    "set_stereo_width",
    "soft_clip",
]

FloatArray = npt.NDArray[np.float32]

# Stop the loudness loop once a measured pass is this close to the target (LU).
_CONVERGED_LU = 0.1
# The clipper's asymptote sits this far above the ceiling, its knee 4 dB lower.
_CLIP_ABOVE_CEILING_DB = 2.0
_CLIP_KNEE_DB = 4.0
_TILT_PIVOT_HZ = 1_000.0
# The control rows are first built exact for gains into the limiter up to this
# (the shaped signal is already normalised to the target, so the gain found is
# usually a few dB); a search that wants more rebuilds them with this headroom.
_FIRST_EXACT_GAIN_DB = 12.0
_GAIN_HEADROOM_DB = 6.0
_MAX_GAIN_DB = 30.0


@dataclass(frozen=True, slots=True)
class MasterReport:
    """What was measured and done while mastering.

    ``gain_db`` is the static gain from input to limiter (normalisation plus the
    loop's correction); ``limiter_reduction_db`` the deepest limiter gain
    reduction; ``trim_db`` the static safety trim after verification (usually 0).
    Output true peak is measured with the libebur128-equivalent 4x interpolator.
    """

    sample_rate: int
    settings: MasterSettings
    input: LoudnessReport
    output: LoudnessReport
    target_lufs: float
    gain_db: float
    limiter_reduction_db: float
    trim_db: float
    passes: int

    def to_json(self) -> dict[str, Any]:
        """Every figure, JSON-safe."""
        return {
            "sample_rate": self.sample_rate,
            "settings": self.settings.to_json(),
            "input": self.input.to_json(),
            "output": self.output.to_json(),
            "target_lufs": self.target_lufs,
            "gain_db": self.gain_db,
            "limiter_reduction_db": self.limiter_reduction_db,
            "trim_db": self.trim_db,
            "passes": self.passes,
        }


@dataclass(frozen=True, slots=True)
class MasterResult(MasterReport):
    """The mastered audio and its :class:`MasterReport` (``to_json`` leaves the samples out)."""

    samples: FloatArray = field(repr=False)


def master(
    samples: AudioArray,
    sample_rate: int,
    settings: MasterSettings | None = None,
    reference: AudioArray | None = None,
) -> MasterResult:
    """Master mono or stereo ``(channels, frames)`` audio to ``settings``.

    ``reference`` (same sample rate) turns on reference matching: the output
    takes its long-term spectrum (partly) and, by default, its loudness.

    Raises:
        AudioDecodeError: NaN or inf samples (input or reference).
        AudioLimitError: more than two channels.
        AudioProcessingError: silent input (nothing to normalise) or reference, or
            a target the limiter cannot reach within ``loudness_tolerance_lu``.
    """
    audio = as_audio(samples, sample_rate)
    if audio.shape[0] > 2:
        raise AudioLimitError(f"mastering takes mono or stereo audio, got {audio.shape[0]} ch")
    guide = None
    if reference is not None:
        guide = ArraySource(as_audio(reference, sample_rate), sample_rate)
    output = np.empty_like(audio)
    report = master_source(
        ArraySource(audio, sample_rate), ArraySink(output), settings, reference=guide
    )
    figures = {item.name: getattr(report, item.name) for item in fields(MasterReport)}
    return MasterResult(samples=output, **figures)


def master_source(
    source: BlockSource,
    sink: AudioSink,
    settings: MasterSettings | None = None,
    *,
    reference: BlockSource | None = None,
) -> MasterReport:
    """:func:`master` from a block source into a sink, a few blocks in memory at a time.

    ``reference`` must have ``source``'s sample rate (wrap it in a
    :class:`~audio_services.sources.ResampledSource`). Blocks must be finite
    (decoded files are; validate arrays with :func:`~audio_services.metering.as_audio`).
    """
    settings = settings or MasterSettings()
    if source.channels > 2:
        raise AudioLimitError(f"mastering takes mono or stereo audio, got {source.channels} ch")
    sample_rate = source.sample_rate
    matching = reference is not None and settings.reference_match_amount > 0.0
    input_report, own_spectrum = _measure(source, spectrum=matching)
    if not math.isfinite(input_report.integrated_lufs):
        raise AudioProcessingError(
            "cannot master silence: the input has no measurable loudness "
            "(digital silence, below -70 LUFS, or shorter than 400 ms)"
        )
    target_lufs, input_lufs = settings.target_lufs, input_report.integrated_lufs
    taps = None
    if reference is not None:
        if reference.sample_rate != sample_rate:
            raise ValueError("the reference must have the input's sample rate")
        reference_report, reference_spectrum = _measure(reference, spectrum=matching)
        if not math.isfinite(reference_report.integrated_lufs):
            raise AudioProcessingError("the reference track is silent: nothing to match")
        if own_spectrum is not None and reference_spectrum is not None:
            frequencies, own_db = own_spectrum.spectrum_db()
            _, reference_db = reference_spectrum.spectrum_db()
            taps = matching_fir(
                frequencies, own_db, reference_db, sample_rate, settings.reference_match_amount
            )
            input_lufs = _equalised_loudness(source, taps)  # the EQ moved it
        if settings.match_reference_loudness:
            target_lufs = min(reference_report.integrated_lufs, TARGET_LUFS_RANGE[1])
    shaper = _Shaper(source, settings, target_lufs, input_lufs, taps)
    try:
        return _limit_to_target(shaper, sink, settings, target_lufs, input_report)
    finally:
        shaper.close()


def _limit_to_target(
    shaper: _Shaper,
    sink: AudioSink,
    settings: MasterSettings,
    target_lufs: float,
    input_report: LoudnessReport,
) -> MasterReport:
    ceiling = db_to_amplitude(settings.ceiling_dbtp)
    search = shaper.search(ceiling, _FIRST_EXACT_GAIN_DB)
    try:
        offset_lu = 0.0  # measured minus predicted loudness, learnt from each pass
        gain_db = target_lufs - search.predict_lufs()
        passes = 0
        while True:
            gain_db, predicted = search.search(gain_db, target_lufs - offset_lu)
            if gain_db > search.control.exact_up_to_db:
                # Exact rows for a louder gain than planned: shape the input again.
                search.control.close()
                exact_db = min(_MAX_GAIN_DB, gain_db + _GAIN_HEADROOM_DB)
                search = shaper.search(ceiling, exact_db)
                continue
            passes += 1
            rendered = shaper.render(sink, search, gain_db)
            if abs(target_lufs - rendered.lufs) <= _CONVERGED_LU or passes >= settings.max_passes:
                break
            offset_lu = rendered.lufs - predicted
        trim_db = 0.0
        if rendered.true_peak > ceiling:
            # True peaks scale exactly with a static gain; the factor keeps float32
            # rounding of the product from landing a hair above the ceiling.
            trim = ceiling / rendered.true_peak * (1.0 - 1e-5)
            trim_db = amplitude_to_db(trim)
            rendered = shaper.render(sink, search, gain_db, trim=trim)
    finally:
        search.control.close()
    if abs(target_lufs - rendered.lufs) > settings.loudness_tolerance_lu:
        raise AudioProcessingError(
            f"could not reach {target_lufs:.1f} LUFS under a {settings.ceiling_dbtp:.1f} dBTP "
            f"ceiling (got {rendered.lufs:.2f} LUFS after {passes} passes); "
            "choose a quieter target or a higher ceiling"
        )
    return MasterReport(
        sample_rate=shaper.sample_rate,
        settings=settings,
        input=input_report,
        output=rendered.report(shaper.sample_rate, shaper.channels),
        target_lufs=target_lufs,
        gain_db=target_lufs - input_report.integrated_lufs + gain_db,
        limiter_reduction_db=max(0.0, -amplitude_to_db(rendered.min_gain)),
        trim_db=trim_db,
        passes=passes,
    )


@dataclass(frozen=True, slots=True)
class _Rendered:
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


class _Shaper:
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
    ) -> _Rendered:
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
        return _Rendered(
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


def _measure(
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


def _equalised_loudness(source: BlockSource, taps: npt.NDArray[np.float64]) -> float:
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
