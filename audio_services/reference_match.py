"""Reference matching: move a track's long-term spectrum toward a reference's.

The idea is matchering's, done simply: average power spectra of both (Welch,
mid channel), their difference smoothed over a third of an octave, limited to
+/- 12 dB and scaled by ``amount``, becomes a linear-phase FIR equaliser. The
overall level is left to loudness normalisation, so the curve is centred on
its mean over 200 Hz..5 kHz; below 30 Hz and above 16 kHz it is held flat at
the edge values rather than chasing rumble or hiss.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import signal

FloatArray = npt.NDArray[np.float32]

_SEGMENT_FRAMES = 8_192
_FIR_TAPS = 4_097
_MAX_CORRECTION_DB = 12.0
_SMOOTHING_OCTAVES = 1.0 / 3.0
_MATCH_BAND_HZ = (30.0, 16_000.0)
_LEVEL_BAND_HZ = (200.0, 5_000.0)


def long_term_spectrum_db(
    audio: FloatArray, sample_rate: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Frequencies (Hz) and the mid channel's average power spectrum (dB)."""
    mid = audio.mean(axis=0)
    segment = min(_SEGMENT_FRAMES, mid.size)
    frequencies, power = signal.welch(mid, fs=sample_rate, nperseg=segment)
    return frequencies, 10.0 * np.log10(np.maximum(power, 1e-20))


def _smooth_octaves(
    frequencies: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Mean over a band of ``_SMOOTHING_OCTAVES`` around each frequency."""
    half_band = 2.0 ** (_SMOOTHING_OCTAVES / 2.0)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    low = np.searchsorted(frequencies, frequencies / half_band, side="left")
    high = np.searchsorted(frequencies, frequencies * half_band, side="right")
    high = np.maximum(high, low + 1)
    smoothed: npt.NDArray[np.float64] = (cumulative[high] - cumulative[low]) / (high - low)
    return smoothed


def matching_curve_db(
    audio: FloatArray, reference: FloatArray, sample_rate: int, amount: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Frequencies (Hz) and the correction (dB) that moves ``audio`` toward ``reference``."""
    frequencies, own_db = long_term_spectrum_db(audio, sample_rate)
    _, reference_db = long_term_spectrum_db(reference, sample_rate)
    curve = _smooth_octaves(frequencies, reference_db - own_db)
    level_band = (frequencies >= _LEVEL_BAND_HZ[0]) & (frequencies <= _LEVEL_BAND_HZ[1])
    if level_band.any():
        curve = curve - curve[level_band].mean()
    low_hz, high_hz = _MATCH_BAND_HZ[0], min(_MATCH_BAND_HZ[1], 0.45 * sample_rate)
    inside = (frequencies >= low_hz) & (frequencies <= high_hz)
    if inside.any():
        edges = np.flatnonzero(inside)
        curve[: edges[0]] = curve[edges[0]]
        curve[edges[-1] + 1 :] = curve[edges[-1]]
    curve = np.clip(curve, -_MAX_CORRECTION_DB, _MAX_CORRECTION_DB) * amount
    return frequencies, curve


def match_spectrum(
    audio: FloatArray, reference: FloatArray, sample_rate: int, amount: float = 0.75
) -> FloatArray:
    """``audio`` equalised toward ``reference``'s long-term spectrum (same sample rate)."""
    frequencies, curve_db = matching_curve_db(audio, reference, sample_rate, amount)
    gains = 10.0 ** (curve_db / 20.0)
    if frequencies[-1] < sample_rate / 2:  # firwin2 needs the band edge
        frequencies = np.append(frequencies, sample_rate / 2)
        gains = np.append(gains, gains[-1])
    taps = signal.firwin2(_FIR_TAPS, frequencies, gains, fs=sample_rate)
    filtered = signal.oaconvolve(audio, taps[np.newaxis, :].astype(np.float32), mode="same", axes=1)
    return np.ascontiguousarray(filtered, dtype=np.float32)
