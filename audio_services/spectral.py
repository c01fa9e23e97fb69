"""Short-time spectra and onset strength in plain numpy, shared by tempo and key.

Kept off librosa on purpose: librosa's numba-compiled helpers cost 13-30 s of
JIT compilation in every fresh worker process, while these few FFT-based
routines run at full speed on the first call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from audio_services.audio_io import resample, to_mono

FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

# Frames per FFT batch: bounds the memory of a long file's spectrogram to a few MB.
_BATCH_FRAMES = 1024


def mono_at_rate(samples: FloatArray, sample_rate: int, target_sample_rate: int) -> FloatArray:
    """Mix ``(channels, frames)`` to a 1-D mono signal at ``target_sample_rate`` Hz."""
    mono = to_mono(np.asarray(samples, dtype=np.float32))
    if sample_rate != target_sample_rate:
        mono = resample(mono, sample_rate, target_sample_rate)
    return np.ascontiguousarray(mono[0])


def stft_power_batches(signal: FloatArray, n_fft: int, hop: int) -> Iterator[FloatArray]:
    """Yield power spectra ``(batch_frames, n_fft // 2 + 1)`` of a Hann-windowed STFT.

    Frame ``i`` is centred on sample ``i * hop`` (the signal is zero-padded by
    ``n_fft // 2`` at both ends), as in librosa's ``center=True``.
    """
    padded = np.pad(signal.astype(np.float32, copy=False), n_fft // 2)
    n_frames = 1 + (len(padded) - n_fft) // hop if len(padded) >= n_fft else 0
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    for start in range(0, n_frames, _BATCH_FRAMES):
        spectrum = np.fft.rfft(frames[start : start + _BATCH_FRAMES] * window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        yield power.astype(np.float32, copy=False)


def log_band_matrix(
    sample_rate: int, n_fft: int, n_bands: int, fmin_hz: float, fmax_hz: float
) -> FloatArray:
    """Triangular filters ``(n_bands, n_fft // 2 + 1)`` equally spaced in log frequency."""
    bin_hz = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    edges = np.geomspace(fmin_hz, fmax_hz, n_bands + 2)
    bands = np.zeros((n_bands, len(bin_hz)), dtype=np.float32)
    for band in range(n_bands):
        low, centre, high = edges[band : band + 3]
        rising = (bin_hz - low) / (centre - low)
        falling = (high - bin_hz) / (high - centre)
        bands[band] = np.clip(np.minimum(rising, falling), 0.0, None)
        # Narrow low bands can fall between FFT bins: give them the nearest bin.
        if not bands[band].any():
            bands[band, int(np.argmin(np.abs(bin_hz - centre)))] = 1.0
    return bands


@dataclass(frozen=True, slots=True, eq=False)
class OnsetStrength:
    """Spectral flux per hop, summed over three frequency ranges.

    ``total``: all bands (every onset, hi-hats included, for timing);
    ``below_4k_hz``: kick, snare, bass and chords, which carry the beat while
    hi-hats mostly subdivide it; ``below_200_hz``: kick drum and bass, which
    mark bar lines.
    """

    total: Float64Array
    below_4k_hz: Float64Array
    below_200_hz: Float64Array


def onset_strength(
    signal: FloatArray,
    sample_rate: int,
    *,
    n_fft: int,
    hop: int,
    n_bands: int = 40,
    fmin_hz: float = 30.0,
    fmax_hz: float = 10_000.0,
) -> OnsetStrength:
    """Half-wave rectified flux of log band energies, one value per ``hop`` samples.

    The log is taken of ``1 + 1000 * energy / peak`` so that a hi-hat's many
    quiet high bands do not outweigh a kick drum's few loud low ones.
    """
    fmax_hz = min(fmax_hz, sample_rate / 2)
    bands = log_band_matrix(sample_rate, n_fft, n_bands, fmin_hz, fmax_hz)
    energy = np.concatenate([batch @ bands.T for batch in stft_power_batches(signal, n_fft, hop)])
    peak = float(energy.max()) if energy.size else 0.0
    if peak <= 0.0:
        zeros = np.zeros(len(energy), dtype=np.float64)
        return OnsetStrength(zeros, zeros.copy(), zeros.copy())
    log_energy = np.log1p(energy.astype(np.float64) * (1000.0 / peak))
    flux = np.maximum(np.diff(log_energy, axis=0, prepend=log_energy[:1]), 0.0)
    centres = np.geomspace(fmin_hz, fmax_hz, n_bands + 2)[1:-1]
    return OnsetStrength(
        total=flux.sum(axis=1),
        below_4k_hz=flux[:, centres < 4000.0].sum(axis=1),
        below_200_hz=flux[:, centres < 200.0].sum(axis=1),
    )
