"""Loudness and peak meters per ITU-R BS.1770-4, EBU R128, EBU Tech 3341 and 3342.

Measurement is delegated to libebur128 (through ``pyebur128``), which passes the
EBU Tech 3341 and 3342 conformance cases. Audio is a float array shaped
``(channels, frames)``; a 1-D array is read as mono.

Conventions:

- Silence, and signals shorter than one 400 ms gating block, have no integrated
  loudness: the meters return ``-inf`` (a float, never ``None``), exactly as
  libebur128 does. Peaks of digital silence are ``-inf`` too.
- The loudness range needs at least one 3 s short-term block above the gates;
  shorter or steadier signals measure ``0.0`` LU.
- Channel weights follow BS.1770-4 table 3: L, R, C weigh 1.0, the surround
  channels 1.41 (+1.5 dB), and the LFE channel of a 5.1 layout is excluded.
  Layouts are read in WAVE/SMPTE order: 1 = mono, 2 = L R, 3 = L R C,
  4 = L R Ls Rs, 5 = L R C Ls Rs, 6 = L R C LFE Ls Rs.
- Non-finite samples (NaN, inf) raise :class:`AudioDecodeError` rather than
  producing a meaningless figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyebur128

from jacameno.audio_services.errors import AudioDecodeError, AudioLimitError

AudioArray = npt.NDArray[np.floating[Any]]

MIN_SAMPLE_RATE_HZ = 8_000
MAX_SAMPLE_RATE_HZ = 384_000
MAX_CHANNELS = 6

_Ch = pyebur128.ChannelType
# BS.1770-4 channel maps in WAVE/SMPTE order; UNUSED excludes the LFE channel.
_CHANNEL_MAPS: dict[int, tuple[int, ...]] = {
    1: (_Ch.LEFT,),
    2: (_Ch.LEFT, _Ch.RIGHT),
    3: (_Ch.LEFT, _Ch.RIGHT, _Ch.CENTER),
    4: (_Ch.LEFT, _Ch.RIGHT, _Ch.LEFT_SURROUND, _Ch.RIGHT_SURROUND),
    5: (_Ch.LEFT, _Ch.RIGHT, _Ch.CENTER, _Ch.LEFT_SURROUND, _Ch.RIGHT_SURROUND),
    6: (_Ch.LEFT, _Ch.RIGHT, _Ch.CENTER, _Ch.UNUSED, _Ch.LEFT_SURROUND, _Ch.RIGHT_SURROUND),
}

_Mode = pyebur128.MeasurementMode


@dataclass(frozen=True, slots=True)
class LoudnessReport:
    """Every figure of one signal, measured in a single pass.

    ``-inf`` marks silence or a signal too short to measure (see the module doc).
    """

    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    num_seconds: float
    sample_rate: int
    num_channels: int

    def to_json(self) -> dict[str, float | int | None]:
        """A JSON-safe dict: ``-inf`` (not valid JSON) becomes ``None``."""
        return {
            key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in asdict(self).items()
        }


def as_audio(samples: AudioArray, sample_rate: int) -> npt.NDArray[np.float32]:
    """Validate audio and return it as a C-contiguous float32 ``(channels, frames)`` array.

    Raises:
        AudioLimitError: unsupported sample rate or channel count (also the usual
            sign of a ``(frames, channels)`` array that needs a transpose).
        AudioDecodeError: the array is not floating point or holds NaN or inf.
    """
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise AudioDecodeError(f"audio must be (channels, frames); got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise AudioDecodeError(f"audio must be floating point in [-1, 1]; got {array.dtype}")
    if not MIN_SAMPLE_RATE_HZ <= int(sample_rate) <= MAX_SAMPLE_RATE_HZ:
        raise AudioLimitError(
            f"sample rate {sample_rate} Hz is outside {MIN_SAMPLE_RATE_HZ}..{MAX_SAMPLE_RATE_HZ} Hz"
        )
    if not 1 <= array.shape[0] <= MAX_CHANNELS:
        raise AudioLimitError(
            f"audio has {array.shape[0]} channels; 1..{MAX_CHANNELS} are supported. "
            "Arrays are (channels, frames): transpose (frames, channels) data first."
        )
    audio = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(audio)
    if not finite.all():
        bad_frame = int(np.argmin(finite.all(axis=0)))
        raise AudioDecodeError(
            f"audio holds NaN or inf samples (first at frame {bad_frame}); "
            "the decoder or an upstream effect produced invalid data"
        )
    return audio


def amplitude_to_db(amplitude: float) -> float:
    """Linear amplitude to dB; 0 becomes ``-inf`` (never a warning or error)."""
    return 20.0 * math.log10(amplitude) if amplitude > 0.0 else -math.inf


def db_to_amplitude(gain_db: float) -> float:
    """dB to linear amplitude."""
    return float(10.0 ** (gain_db / 20.0))


class LoudnessMeter:
    """libebur128 fed block by block: memory stays a block, whatever the duration.

    ``mode`` is a ``pyebur128.MeasurementMode`` combination. Blocks are
    ``(channels, frames)`` float32 arrays of finite samples (validate arrays with
    :func:`as_audio`; decoded files are finite already).
    """

    def __init__(self, sample_rate: int, channels: int, mode: int) -> None:
        if not 1 <= channels <= MAX_CHANNELS:
            raise AudioLimitError(f"audio has {channels} channels; 1..{MAX_CHANNELS} are supported")
        if not MIN_SAMPLE_RATE_HZ <= int(sample_rate) <= MAX_SAMPLE_RATE_HZ:
            raise AudioLimitError(
                f"sample rate {sample_rate} Hz is outside "
                f"{MIN_SAMPLE_RATE_HZ}..{MAX_SAMPLE_RATE_HZ} Hz"
            )
        self.sample_rate = int(sample_rate)
        self.channels = channels
        self.num_frames = 0
        self._state = pyebur128.R128State(channels, self.sample_rate, mode)
        for index, channel_type in enumerate(_CHANNEL_MAPS[channels]):
            self._state.set_channel(index, channel_type)

    def add(self, block: npt.NDArray[np.float32]) -> None:
        """Meter the next ``(channels, frames)`` block."""
        num_frames = block.shape[1]
        if not num_frames:
            return
        if self.channels == 1:
            interleaved = np.ascontiguousarray(block[0], dtype=np.float32)
        else:
            interleaved = np.ascontiguousarray(block.T, dtype=np.float32).reshape(-1)
        self._state.add_frames(interleaved, num_frames)
        self.num_frames += num_frames

    @property
    def integrated_lufs(self) -> float:
        """Gated integrated loudness (LUFS); ``-inf`` for silence or under 400 ms."""
        return float(pyebur128.get_loudness_global(self._state))

    @property
    def loudness_range_lu(self) -> float:
        """Loudness range (LU); needs ``MODE_LRA``."""
        return float(pyebur128.get_loudness_range(self._state))

    @property
    def true_peak(self) -> float:
        """Largest true peak of any channel, linear; needs ``MODE_TRUE_PEAK``."""
        return _max_channel_peak(self._state, self.channels, pyebur128.get_true_peak)

    @property
    def sample_peak(self) -> float:
        """Largest absolute sample of any channel, linear; needs a peak mode."""
        return _max_channel_peak(self._state, self.channels, pyebur128.get_sample_peak)

    def report(self) -> LoudnessReport:
        """Every figure, for a meter created with ``MODE_I | MODE_LRA | MODE_TRUE_PEAK``."""
        return LoudnessReport(
            integrated_lufs=self.integrated_lufs,
            loudness_range_lu=self.loudness_range_lu,
            true_peak_dbtp=amplitude_to_db(self.true_peak),
            sample_peak_dbfs=amplitude_to_db(self.sample_peak),
            num_seconds=self.num_frames / self.sample_rate,
            sample_rate=self.sample_rate,
            num_channels=self.channels,
        )


FULL_MODE = _Mode.MODE_I | _Mode.MODE_LRA | _Mode.MODE_TRUE_PEAK
"""Integrated loudness, loudness range and true peak (with sample peak)."""
LOUDNESS_MODE = _Mode.MODE_I | _Mode.MODE_LRA
"""Integrated loudness and loudness range: a fifth of the cost of :data:`FULL_MODE`."""
_METER_BLOCK_FRAMES = 1 << 16


def _meter(audio: npt.NDArray[np.float32], sample_rate: int, mode: int) -> LoudnessMeter:
    """Feed validated audio through a fresh meter, a block at a time."""
    meter = LoudnessMeter(sample_rate, audio.shape[0], mode)
    for start in range(0, audio.shape[1], _METER_BLOCK_FRAMES):
        meter.add(audio[:, start : start + _METER_BLOCK_FRAMES])
    return meter


def integrated_loudness_lufs(samples: AudioArray, sample_rate: int) -> float:
    """Gated integrated loudness (BS.1770-4), in LUFS; ``-inf`` for silence or < 400 ms."""
    return _meter(as_audio(samples, sample_rate), sample_rate, _Mode.MODE_I).integrated_lufs


def loudness_range_lu(samples: AudioArray, sample_rate: int) -> float:
    """Loudness range (EBU Tech 3342), in LU; ``0.0`` when shorter than 3 s."""
    return _meter(as_audio(samples, sample_rate), sample_rate, _Mode.MODE_LRA).loudness_range_lu


def loudness_and_range(samples: AudioArray, sample_rate: int) -> tuple[float, float]:
    """Integrated loudness (LUFS) and loudness range (LU) in one pass, without peaks.

    A quarter of the cost of :func:`measure_loudness`, whose true-peak
    oversampling dominates.
    """
    meter = _meter(as_audio(samples, sample_rate), sample_rate, _Mode.MODE_I | _Mode.MODE_LRA)
    return meter.integrated_lufs, meter.loudness_range_lu


def true_peak_dbtp(samples: AudioArray, sample_rate: int) -> float:
    """Maximum true peak over all channels (BS.1770-4 annex 2, 4x oversampled), in dBTP."""
    meter = _meter(as_audio(samples, sample_rate), sample_rate, _Mode.MODE_TRUE_PEAK)
    return amplitude_to_db(meter.true_peak)


def sample_peak_dbfs(samples: AudioArray) -> float:
    """Maximum absolute sample value over all channels, in dBFS (not a true peak)."""
    audio = np.asarray(samples)
    if audio.size == 0:
        return -math.inf
    peak = float(np.max(np.abs(audio)))
    if not math.isfinite(peak):
        raise AudioDecodeError("audio holds NaN or inf samples")
    return amplitude_to_db(peak)


def measure_loudness(samples: AudioArray, sample_rate: int) -> LoudnessReport:
    """Integrated loudness, loudness range, true peak and sample peak in one pass."""
    return _meter(as_audio(samples, sample_rate), sample_rate, FULL_MODE).report()


def measure_blocks(
    blocks: Iterable[npt.NDArray[np.float32]], sample_rate: int, channels: int
) -> LoudnessReport:
    """:func:`measure_loudness` of a signal given as consecutive finite blocks (a file, read)."""
    meter = LoudnessMeter(sample_rate, channels, FULL_MODE)
    for block in blocks:
        meter.add(block)
    return meter.report()


def _max_channel_peak(state: Any, num_channels: int, getter: Any) -> float:
    return max(float(getter(state, channel)) for channel in range(num_channels))
