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
   (:mod:`audio_services.loudness_search`; K-weighted power computed once, each
   candidate limiter curve costs a weighted sum), then one rendered pass
   measured with libebur128. A second pass, correcting the model's offset,
   runs only if that measurement misses the target by more than 0.1 LU. The
   true-peak envelope is computed once too: the limiter's input is a fixed
   signal times the gain, and true peaks scale linearly with gain;
6. a verification of the true peak (4x, BS.1770-4) and, if the limiter left a
   residual overshoot, a static trim under the ceiling. The ceiling therefore
   always holds, as measured by the same interpolator libebur128 uses.

Settings and presets live in :mod:`audio_services.mastering_settings` and are
re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pedalboard

# pedalboard's own stubs do not re-export Pedalboard explicitly.
from pedalboard import Pedalboard  # type: ignore[attr-defined]

from audio_services.errors import AudioLimitError, AudioProcessingError
from audio_services.limiter import apply_gain
from audio_services.loudness_search import LimiterGainSearch
from audio_services.mastering_settings import (
    MASTER_PRESETS,
    TARGET_LUFS_RANGE,
    MasterSettings,
    master_settings,
)
from audio_services.metering import (
    AudioArray,
    LoudnessReport,
    amplitude_to_db,
    as_audio,
    db_to_amplitude,
    loudness_and_range,
)
from audio_services.reference_match import match_spectrum
from audio_services.true_peak import true_peak_linear

__all__ = [
    "MASTER_PRESETS",
    "MasterResult",
    "MasterSettings",
    "master",
    "master_settings",
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


@dataclass(frozen=True, slots=True)
class MasterResult:
    """The mastered audio and what was measured and done on the way.

    ``gain_db`` is the static gain from input to limiter (normalisation plus the
    loop's correction); ``limiter_reduction_db`` the deepest limiter gain
    reduction; ``trim_db`` the static safety trim after verification (usually 0).
    Output true peak is measured with the libebur128-equivalent 4x interpolator.
    """

    samples: FloatArray = field(repr=False)
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
        """Everything but the samples, JSON-safe."""
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
    settings = settings or MasterSettings()
    audio = as_audio(samples, sample_rate)
    if audio.shape[0] > 2:
        raise AudioLimitError(f"mastering takes mono or stereo audio, got {audio.shape[0]} ch")
    input_report = _fast_report(audio, sample_rate)
    if not math.isfinite(input_report.integrated_lufs):
        raise AudioProcessingError(
            "cannot master silence: the input has no measurable loudness "
            "(digital silence, below -70 LUFS, or shorter than 400 ms)"
        )
    target_lufs, input_lufs = settings.target_lufs, input_report.integrated_lufs
    if reference is not None:
        audio, reference_lufs = _apply_reference(audio, sample_rate, reference, settings)
        input_lufs, _ = loudness_and_range(audio, sample_rate)  # the EQ moved it
        if settings.match_reference_loudness:
            target_lufs = min(reference_lufs, TARGET_LUFS_RANGE[1])

    shaped = _shape(audio, sample_rate, settings, target_lufs, input_lufs)
    ceiling = db_to_amplitude(settings.ceiling_dbtp)
    if settings.uses_clipper:
        shaped = soft_clip(shaped, db_to_amplitude(settings.ceiling_dbtp + _CLIP_ABOVE_CEILING_DB))
    return _limit_to_target(shaped, sample_rate, settings, target_lufs, ceiling, input_report)


def _limit_to_target(
    shaped: FloatArray,
    sample_rate: int,
    settings: MasterSettings,
    target_lufs: float,
    ceiling: float,
    input_report: LoudnessReport,
) -> MasterResult:
    limiter = LimiterGainSearch(
        shaped,
        sample_rate,
        ceiling,
        settings.limiter_lookahead_ms,
        settings.limiter_release_ms,
    )
    offset_lu = 0.0  # measured minus predicted loudness, learnt from each pass
    gain_db = target_lufs - limiter.model.predict_lufs()
    passes = 0
    while True:
        passes += 1
        gain_db, curve, predicted = limiter.search(gain_db, target_lufs - offset_lu)
        output = apply_gain(shaped, curve, db_to_amplitude(gain_db))
        lufs, lra = loudness_and_range(output, sample_rate)
        if abs(target_lufs - lufs) <= _CONVERGED_LU or passes >= settings.max_passes:
            break
        offset_lu = lufs - predicted

    output, trim_db, true_peak = _enforce_ceiling(output, sample_rate, ceiling)
    if trim_db:
        lufs, lra = loudness_and_range(output, sample_rate)
    if abs(target_lufs - lufs) > settings.loudness_tolerance_lu:
        raise AudioProcessingError(
            f"could not reach {target_lufs:.1f} LUFS under a {settings.ceiling_dbtp:.1f} dBTP "
            f"ceiling (got {lufs:.2f} LUFS after {passes} passes); "
            "choose a quieter target or a higher ceiling"
        )
    reduction = 0.0 if curve is None else -amplitude_to_db(float(curve.min()))
    return MasterResult(
        samples=output,
        sample_rate=sample_rate,
        settings=settings,
        input=input_report,
        output=_report(output, sample_rate, lufs, lra, true_peak),
        target_lufs=target_lufs,
        gain_db=target_lufs - input_report.integrated_lufs + gain_db,
        limiter_reduction_db=reduction,
        trim_db=trim_db,
        passes=passes,
    )


def _enforce_ceiling(
    output: FloatArray, sample_rate: int, ceiling: float
) -> tuple[FloatArray, float, float]:
    """Verify the true peak; trim statically if the limiter left an overshoot."""
    if not np.isfinite(output).all():
        raise AudioProcessingError("mastering produced NaN or inf samples")
    true_peak = true_peak_linear(output, sample_rate)
    if true_peak <= ceiling:
        return output, 0.0, true_peak
    # True peaks scale exactly with a static gain; the factor keeps float32
    # rounding of the product from landing a hair above the ceiling.
    trim = ceiling / true_peak * (1.0 - 1e-5)
    trimmed = (output * np.float32(trim)).astype(np.float32, copy=False)
    return trimmed, amplitude_to_db(trim), true_peak * trim


def _shape(
    audio: FloatArray,
    sample_rate: int,
    settings: MasterSettings,
    target_lufs: float,
    input_lufs: float,
) -> FloatArray:
    """Width, low cut, tilt, normalisation to the target, and compression."""
    if audio.shape[0] == 2 and settings.stereo_width != 1.0:
        audio = set_stereo_width(audio, settings.stereo_width)
    plugins: list[pedalboard.Plugin] = []
    if settings.low_cut_hz is not None:
        # Two first-order sections: 12 dB/octave, -6 dB at the cutoff.
        cutoff_hz = min(settings.low_cut_hz, 0.45 * sample_rate)
        plugins += [pedalboard.HighpassFilter(cutoff_hz), pedalboard.HighpassFilter(cutoff_hz)]
    if settings.tilt_db:
        half_db = settings.tilt_db / 2.0
        plugins += [
            pedalboard.LowShelfFilter(_TILT_PIVOT_HZ, -half_db, 0.5),
            pedalboard.HighShelfFilter(_TILT_PIVOT_HZ, half_db, 0.5),
        ]
    plugins.append(pedalboard.Gain(target_lufs - input_lufs))
    if settings.compression_ratio > 1.0:
        plugins.append(
            pedalboard.Compressor(
                threshold_db=target_lufs + settings.compressor_threshold_lu,
                ratio=settings.compression_ratio,
                attack_ms=settings.compressor_attack_ms,
                release_ms=settings.compressor_release_ms,
            )
        )
    processed = Pedalboard(plugins)(audio, sample_rate)
    return np.ascontiguousarray(processed, dtype=np.float32)


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


def _apply_reference(
    audio: FloatArray, sample_rate: int, reference: AudioArray, settings: MasterSettings
) -> tuple[FloatArray, float]:
    reference_audio = as_audio(reference, sample_rate)
    reference_lufs, _ = loudness_and_range(reference_audio, sample_rate)
    if not math.isfinite(reference_lufs):
        raise AudioProcessingError("the reference track is silent: nothing to match")
    if settings.reference_match_amount > 0.0:
        audio = match_spectrum(audio, reference_audio, sample_rate, settings.reference_match_amount)
    return audio, reference_lufs


def _fast_report(audio: FloatArray, sample_rate: int) -> LoudnessReport:
    lufs, lra = loudness_and_range(audio, sample_rate)
    return _report(audio, sample_rate, lufs, lra, true_peak_linear(audio, sample_rate))


def _report(
    audio: FloatArray, sample_rate: int, lufs: float, lra: float, true_peak: float
) -> LoudnessReport:
    return LoudnessReport(
        integrated_lufs=lufs,
        loudness_range_lu=lra,
        true_peak_dbtp=amplitude_to_db(true_peak),
        sample_peak_dbfs=amplitude_to_db(float(np.abs(audio).max())),
        num_seconds=audio.shape[1] / sample_rate,
        sample_rate=sample_rate,
        num_channels=audio.shape[0],
    )
