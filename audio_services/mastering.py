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
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.errors import AudioLimitError, AudioProcessingError
from jacameno.audio_services.mastering_passes import (
    Shaper,
    equalised_loudness,
    measure,
    set_stereo_width,
    soft_clip,
)
from jacameno.audio_services.mastering_settings import (
    MASTER_PRESETS,
    TARGET_LUFS_RANGE,
    MasterSettings,
    master_settings,
)
from jacameno.audio_services.metering import (
    AudioArray,
    LoudnessReport,
    amplitude_to_db,
    as_audio,
    db_to_amplitude,
)
from jacameno.audio_services.reference_match import matching_fir
from jacameno.audio_services.sinks import ArraySink, AudioSink
from jacameno.audio_services.sources import ArraySource, BlockSource

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
    input_report, own_spectrum = measure(source, spectrum=matching)
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
        reference_report, reference_spectrum = measure(reference, spectrum=matching)
        if not math.isfinite(reference_report.integrated_lufs):
            raise AudioProcessingError("the reference track is silent: nothing to match")
        if own_spectrum is not None and reference_spectrum is not None:
            frequencies, own_db = own_spectrum.spectrum_db()
            _, reference_db = reference_spectrum.spectrum_db()
            taps = matching_fir(
                frequencies, own_db, reference_db, sample_rate, settings.reference_match_amount
            )
            input_lufs = equalised_loudness(source, taps)  # the EQ moved it
        if settings.match_reference_loudness:
            target_lufs = min(reference_report.integrated_lufs, TARGET_LUFS_RANGE[1])
    shaper = Shaper(source, settings, target_lufs, input_lufs, taps)
    try:
        return _limit_to_target(shaper, sink, settings, target_lufs, input_report)
    finally:
        shaper.close()


def _limit_to_target(
    shaper: Shaper,
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
