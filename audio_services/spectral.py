"""Short-time spectra and onset strength in plain numpy, shared by tempo and key.

Kept off librosa on purpose: librosa's numba-compiled helpers cost 13-30 s of
JIT compilation in every fresh worker process, while these few FFT-based
routines run at full speed on the first call.

Both work on a stream: :class:`StftStream` turns consecutive pieces of a
signal into the frames the whole signal would give, and
:class:`OnsetAccumulator` keeps only per-hop band energies (spilled to a
temporary file on long tracks, see :mod:`audio_services.spill`), because the
onset strength is normalised by the loudest band energy of the whole track.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.audio_io import resample, to_mono
from jacameno.audio_services.spill import SPILL_MEMORY_BYTES, SpillBuffer

FloatArray = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

# Frames per FFT batch: bounds the memory of a long file's spectrogram to a few MB.
_BATCH_FRAMES = 1024
# Hops of band energies turned into flux at a time (a few float64 copies of 1.3 MB).
_FLUX_ROWS = 4096


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
    stream = StftStream(n_fft, hop)
    yield from stream.push(signal)
    yield from stream.finish()


class StftStream:
    """The frames of :func:`stft_power_batches`, from consecutive pieces of a 1-D signal.

    Keeps under ``n_fft`` samples between calls; the frames are the ones the
    whole signal would give, in the same order and with the same values.
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        self.n_fft = n_fft
        self.hop = hop
        self._window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
        self._buffer = np.zeros(n_fft // 2, np.float32)  # the centring pad
        self._finished = False

    def push(self, signal: FloatArray) -> Iterator[FloatArray]:
        """Power spectra of every frame the samples so far complete."""
        self._buffer = np.concatenate([self._buffer, signal.astype(np.float32, copy=False)])
        yield from self._frames()

    def finish(self) -> Iterator[FloatArray]:
        """The last frames, over the closing pad of ``n_fft // 2`` zeros."""
        if self._finished:
            return
        self._finished = True
        self._buffer = np.concatenate([self._buffer, np.zeros(self.n_fft // 2, np.float32)])
        yield from self._frames()

    def _frames(self) -> Iterator[FloatArray]:
        if len(self._buffer) < self.n_fft:
            return
        n_frames = 1 + (len(self._buffer) - self.n_fft) // self.hop
        frames = np.lib.stride_tricks.sliding_window_view(self._buffer, self.n_fft)[:: self.hop]
        for start in range(0, n_frames, _BATCH_FRAMES):
            stop = min(start + _BATCH_FRAMES, n_frames)
            if not self._buffer[start * self.hop : (stop - 1) * self.hop + self.n_fft].any():
                # Digital silence: its spectrum is exactly zero, no FFT needed.
                yield np.zeros((stop - start, self.n_fft // 2 + 1), np.float32)
                continue
            spectrum = np.fft.rfft(frames[start:stop] * self._window, axis=1)
            power = spectrum.real**2 + spectrum.imag**2
            yield power.astype(np.float32, copy=False)
        self._buffer = self._buffer[n_frames * self.hop :].copy()


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


class OnsetAccumulator:
    """:func:`onset_strength` of a signal fed in consecutive pieces.

    Band energies are kept per hop (in a temporary file past ``memory_bytes``)
    until :meth:`result`: the log compression needs the loudest energy of the
    whole signal.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        n_fft: int,
        hop: int,
        n_bands: int = 40,
        fmin_hz: float = 30.0,
        fmax_hz: float = 10_000.0,
        memory_bytes: int = SPILL_MEMORY_BYTES,
    ) -> None:
        self.fmin_hz = fmin_hz
        self.fmax_hz = min(fmax_hz, sample_rate / 2)
        self.n_bands = n_bands
        self._bands_t = np.ascontiguousarray(
            log_band_matrix(sample_rate, n_fft, n_bands, fmin_hz, self.fmax_hz).T
        )
        self._stft = StftStream(n_fft, hop)
        self._energy = SpillBuffer(n_bands, memory_bytes)
        self._peak = 0.0

    def add(self, signal: FloatArray) -> None:
        """Take the next samples of the 1-D signal."""
        for batch in self._stft.push(signal):
            self._add_power(batch)

    def result(self) -> OnsetStrength:
        """The onset strength of everything added (frees the band energies)."""
        for batch in self._stft.finish():
            self._add_power(batch)
        with self._energy:
            return self._flux()

    def _add_power(self, batch: FloatArray) -> None:
        if not batch.any():
            self._energy.append(np.zeros((len(batch), self.n_bands), np.float32))
            return
        energy = batch @ self._bands_t
        if energy.size:
            self._peak = max(self._peak, float(energy.max()))
        self._energy.append(energy)

    def _flux(self) -> OnsetStrength:
        if self._peak <= 0.0:
            zeros = np.zeros(len(self._energy), dtype=np.float64)
            return OnsetStrength(zeros, zeros.copy(), zeros.copy())
        centres = np.geomspace(self.fmin_hz, self.fmax_hz, self.n_bands + 2)[1:-1]
        below_4k, below_200 = centres < 4000.0, centres < 200.0
        totals: list[Float64Array] = []
        lows: list[Float64Array] = []
        bass: list[Float64Array] = []
        previous: Float64Array | None = None
        for energy in self._energy.chunks(_FLUX_ROWS):
            log_energy = np.log1p(energy.astype(np.float64) * (1000.0 / self._peak))
            first = log_energy[:1] if previous is None else previous
            flux = np.maximum(np.diff(log_energy, axis=0, prepend=first), 0.0)
            previous = log_energy[-1:]
            totals.append(flux.sum(axis=1))
            lows.append(flux[:, below_4k].sum(axis=1))
            bass.append(flux[:, below_200].sum(axis=1))
        return OnsetStrength(np.concatenate(totals), np.concatenate(lows), np.concatenate(bass))


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
    accumulator = OnsetAccumulator(
        sample_rate, n_fft=n_fft, hop=hop, n_bands=n_bands, fmin_hz=fmin_hz, fmax_hz=fmax_hz
    )
    accumulator.add(signal)
    return accumulator.result()
