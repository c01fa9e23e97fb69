"""Reference matching: move a track's long-term spectrum toward a reference's.

The idea is matchering's, done simply: average power spectra of both (Welch,
mid channel), their difference smoothed over a third of an octave, limited to
+/- 12 dB and scaled by ``amount``, becomes a linear-phase FIR equaliser. The
overall level is left to loudness normalisation, so the curve is centred on
its mean over 200 Hz..5 kHz; below 30 Hz and above 16 kHz it is held flat at
the edge values rather than chasing rumble or hiss.

Both spectra accumulate as the audio streams by (:class:`WelchAccumulator`),
and the equaliser runs block by block (:class:`StreamingFir`), so long tracks
cost no more memory than short ones.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    return spectrum_of_blocks([np.atleast_2d(audio)], sample_rate)


def spectrum_of_blocks(
    blocks: Iterable[FloatArray], sample_rate: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`long_term_spectrum_db` of a signal given as consecutive blocks."""
    welch = WelchAccumulator(sample_rate)
    for block in blocks:
        welch.add(block)
    return welch.spectrum_db()


class WelchAccumulator:
    """Welch's average power spectrum of the mid channel (as ``scipy.signal.welch``).

    Hann segments of ``_SEGMENT_FRAMES`` with half overlap, mean removed; a
    signal shorter than one segment is one segment of its own length.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._window = signal.get_window("hann", _SEGMENT_FRAMES).astype(np.float64)
        self._buffer = np.zeros(0, np.float64)
        self._power = np.zeros(_SEGMENT_FRAMES // 2 + 1)
        self._segments = 0

    def add(self, block: FloatArray) -> None:
        """Take the next ``(channels, frames)`` block."""
        self._buffer = np.concatenate([self._buffer, block.mean(axis=0, dtype=np.float64)])
        hop = _SEGMENT_FRAMES // 2
        count = (len(self._buffer) - _SEGMENT_FRAMES) // hop + 1
        if count <= 0:
            return
        segments = np.lib.stride_tricks.sliding_window_view(self._buffer, _SEGMENT_FRAMES)[::hop]
        segments = segments[:count]
        spectra = np.fft.rfft((segments - segments.mean(axis=1, keepdims=True)) * self._window)
        self._power += (spectra.real**2 + spectra.imag**2).sum(axis=0)
        self._segments += count
        self._buffer = self._buffer[count * hop :]

    def spectrum_db(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Frequencies (Hz) and power spectral density (dB) of everything added."""
        if self._segments == 0:
            frequencies, power = signal.welch(
                self._buffer, fs=self.sample_rate, nperseg=max(len(self._buffer), 1)
            )
            power_db: npt.NDArray[np.float64] = 10.0 * np.log10(np.maximum(power, 1e-20))
            return np.asarray(frequencies, dtype=np.float64), power_db
        density = self._power / (self._segments * self.sample_rate * (self._window**2).sum())
        density[1:-1] *= 2.0  # one-sided: fold the negative frequencies in
        bins = np.fft.rfftfreq(_SEGMENT_FRAMES, 1.0 / self.sample_rate).astype(np.float64)
        density_db: npt.NDArray[np.float64] = 10.0 * np.log10(np.maximum(density, 1e-20))
        return bins, density_db


class StreamingFir:
    """``oaconvolve(x, taps, mode="same")`` along frames, block by block.

    The output lags half the filter behind the input; :meth:`finish` returns
    the rest, so the pieces add up to exactly the input's length.
    """

    def __init__(self, taps: npt.NDArray[np.float64], channels: int) -> None:
        self._taps = taps[np.newaxis, :].astype(np.float32)
        self._delay = (len(taps) - 1) // 2
        # Partial sums of full-convolution outputs from ``_received`` on.
        self._pending = np.zeros((channels, len(taps) - 1), np.float32)
        self._received = 0
        self._emitted = 0

    def push(self, block: FloatArray) -> FloatArray:
        length = block.shape[1]
        if not length:
            return np.zeros((self._pending.shape[0], 0), np.float32)
        full = signal.oaconvolve(block, self._taps, mode="full", axes=1).astype(np.float32)
        full[:, : self._pending.shape[1]] += self._pending
        self._pending = full[:, length:].copy()
        self._received += length
        # Full outputs before ``_received`` are final; full output m is output m - delay.
        return self._emit(full[:, :length], self._received - length)

    def finish(self) -> FloatArray:
        """The outputs still owed after the last block."""
        return self._emit(self._pending, self._received, stop=self._received)

    def _emit(self, full: FloatArray, first_full: int, stop: int | None = None) -> FloatArray:
        start = max(self._emitted + self._delay - first_full, 0)
        end = full.shape[1] if stop is None else max(start, stop + self._delay - first_full)
        out = full[:, start:end]
        self._emitted += out.shape[1]
        return np.ascontiguousarray(out)


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
    return frequencies, _matching_curve(frequencies, own_db, reference_db, sample_rate, amount)


def _matching_curve(
    frequencies: npt.NDArray[np.float64],
    own_db: npt.NDArray[np.float64],
    reference_db: npt.NDArray[np.float64],
    sample_rate: int,
    amount: float,
) -> npt.NDArray[np.float64]:
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
    correction: npt.NDArray[np.float64] = (
        np.clip(curve, -_MAX_CORRECTION_DB, _MAX_CORRECTION_DB) * amount
    )
    return correction


def matching_fir(
    frequencies: npt.NDArray[np.float64],
    own_db: npt.NDArray[np.float64],
    reference_db: npt.NDArray[np.float64],
    sample_rate: int,
    amount: float,
) -> npt.NDArray[np.float64]:
    """Linear-phase FIR taps that move a spectrum ``own_db`` toward ``reference_db``."""
    curve_db = _matching_curve(frequencies, own_db, reference_db, sample_rate, amount)
    gains = 10.0 ** (curve_db / 20.0)
    if frequencies[-1] < sample_rate / 2:  # firwin2 needs the band edge
        frequencies = np.append(frequencies, sample_rate / 2)
        gains = np.append(gains, gains[-1])
    taps: npt.NDArray[np.float64] = signal.firwin2(_FIR_TAPS, frequencies, gains, fs=sample_rate)
    return taps


def match_spectrum(
    audio: FloatArray, reference: FloatArray, sample_rate: int, amount: float = 0.75
) -> FloatArray:
    """``audio`` equalised toward ``reference``'s long-term spectrum (same sample rate)."""
    frequencies, own_db = long_term_spectrum_db(audio, sample_rate)
    _, reference_db = long_term_spectrum_db(reference, sample_rate)
    taps = matching_fir(frequencies, own_db, reference_db, sample_rate, amount)
    fir = StreamingFir(taps, audio.shape[0])
    return np.concatenate([fir.push(audio), fir.finish()], axis=1)
