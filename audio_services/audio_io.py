"""Reading and writing audio files with libsndfile (via ``soundfile``).

libsndfile recognises WAV, FLAC, OGG/Vorbis, MP3 and the other formats it knows by
their content, never by the file name, so a text file named ``.wav`` is refused
like any other undecodable input.

Every public function returns or takes ``float32`` arrays shaped
``(channels, frames)``. Bad input raises :class:`AudioDecodeError` (not audio,
corrupt, empty) or :class:`AudioLimitError` (too long, too many channels, sample
rate out of range); limits are checked from the header *before* any decoding,
so a header claiming ten hours costs nothing.

Decisions worth knowing:

- Non-finite samples (NaN, +-inf, only possible in float files) are replaced by
  ``0.0``: they cannot be played, metered or mixed, and silence is the only
  value that cannot hurt a listener's ears or a loudness figure.
- A truncated file whose decoder recovers (WAV, OGG, MP3) yields its intact
  prefix, as every player does; one whose decoder loses sync (FLAC) is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from math import gcd
from typing import BinaryIO, Literal

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy.signal import resample_poly

from jacameno.audio_services.errors import AudioDecodeError, AudioError, AudioLimitError
from jacameno.audio_services.result_json import JsonObject, json_object

__all__ = [
    "DEFAULT_MAX_CHANNELS",
    "DEFAULT_MAX_DURATION_S",
    "MAX_DECODED_BYTES",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "AudioInfo",
    "AudioSource",
    "check_limits",
    "load_audio",
    "probe",
    "read_blocks",
    "resample",
    "to_mono",
    "write_audio",
]

AudioSource = str | os.PathLike[str] | BinaryIO
"""A path, or a binary file object positioned at the start of the audio."""

FloatArray = npt.NDArray[np.float32]

DEFAULT_MAX_DURATION_S = 3600.0
"""Longest audio accepted by default: one hour (an album side or a live set)."""
DEFAULT_MAX_CHANNELS = 6
"""Up to 5.1 surround, the most the loudness meter (BS.1770-4 channel weights) knows."""
MAX_DECODED_BYTES = 2 * 1024**3
"""float32 bytes :func:`load_audio` will hold (an hour of 48 kHz stereo is 1.4 GB);
longer or denser audio must be streamed with :func:`read_blocks`."""
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000

WriteFormat = Literal["WAV", "FLAC"]


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a file's header says, before decoding.

    ``frames`` is exact for PCM formats and an estimate for MP3 and OGG.
    """

    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    duration_s: float

    def to_json(self) -> JsonObject:
        return json_object(asdict(self))


def probe(source: AudioSource) -> AudioInfo:
    """Read the header of ``source`` without decoding its samples.

    Raises :class:`AudioDecodeError` if the content is not audio libsndfile knows.
    """
    with _open(source) as snd:
        return _info(snd)


def load_audio(
    source: AudioSource,
    *,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    max_channels: int = DEFAULT_MAX_CHANNELS,
    target_sample_rate: int | None = None,
    mono: bool = False,
) -> tuple[FloatArray, int]:
    """Decode ``source`` to ``float32`` samples shaped ``(channels, frames)``.

    Limits are checked from the header first: longer than ``max_duration_s`` or
    more than ``max_channels`` channels raises :class:`AudioLimitError` without
    decoding. ``mono`` averages the channels; ``target_sample_rate`` resamples
    with a polyphase filter. Returns ``(samples, sample_rate_hz)``.
    """
    with _open(source) as snd:
        info = _info(snd)
        check_limits(info, max_duration_s=max_duration_s, max_channels=max_channels)
        decoded_bytes = 4 * info.frames * info.channels
        if decoded_bytes > MAX_DECODED_BYTES:
            raise AudioLimitError(
                f"decoding would take {decoded_bytes / 1024**3:.1f} GiB, over "
                f"{MAX_DECODED_BYTES / 1024**3:.0f} GiB: stream it with read_blocks()"
            )
        samples = _read(snd, frames=-1)
    if samples.shape[1] == 0:
        raise AudioDecodeError("the file decodes to zero audio frames")
    if mono:
        samples = to_mono(samples)
    sample_rate = info.sample_rate
    if target_sample_rate is not None and target_sample_rate != sample_rate:
        samples = resample(samples, sample_rate, target_sample_rate)
        sample_rate = target_sample_rate
    return samples, sample_rate


def read_blocks(
    source: AudioSource,
    block_frames: int,
    *,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    max_channels: int = DEFAULT_MAX_CHANNELS,
) -> Iterator[FloatArray]:
    """Yield consecutive ``(channels, block_frames)`` blocks; the last may be shorter.

    For consumers that stream (metering, waveform building) and never need the
    whole file in memory. Limits are checked before the first block.
    """
    if block_frames <= 0:
        raise ValueError(f"block_frames must be positive, got {block_frames}")
    with _open(source) as snd:
        info = _info(snd)
        check_limits(info, max_duration_s=max_duration_s, max_channels=max_channels)
        while True:
            block = _read(snd, frames=block_frames)
            if block.shape[1] == 0:
                return
            yield block


def write_audio(
    destination: str | os.PathLike[str] | BinaryIO,
    samples: npt.ArrayLike,
    sample_rate: int,
    *,
    format: WriteFormat = "WAV",
    subtype: str = "PCM_24",
) -> None:
    """Write ``(channels, frames)`` samples as WAV or FLAC (``PCM_16``, ``PCM_24``, ``FLOAT``).

    Non-finite samples are refused (they would be written as garbage), and
    integer subtypes clip at full scale, so limit or normalise before writing.
    """
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"samples must be shaped (channels, frames), got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise AudioError("refusing to write non-finite samples (NaN or inf)")
    if not sf.check_format(format, subtype):
        raise ValueError(f"{format} cannot hold subtype {subtype!r}")
    _check_sample_rate(sample_rate)
    try:
        sf.write(destination, data.T, sample_rate, format=format, subtype=subtype)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"cannot write audio: {exc}") from exc


def to_mono(samples: FloatArray) -> FloatArray:
    """Average ``(channels, frames)`` to ``(1, frames)`` (LFE and surrounds included)."""
    if samples.shape[0] == 1:
        return samples
    mono: FloatArray = samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return mono


def resample(samples: FloatArray, sample_rate: int, target_sample_rate: int) -> FloatArray:
    """Resample ``(channels, frames)`` with a polyphase FIR (Kaiser window, scipy default)."""
    _check_sample_rate(target_sample_rate)
    common = gcd(sample_rate, target_sample_rate)
    out = resample_poly(samples, target_sample_rate // common, sample_rate // common, axis=1)
    resampled: FloatArray = np.ascontiguousarray(out, dtype=np.float32)
    return resampled


def _open(source: AudioSource) -> sf.SoundFile:
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise AudioDecodeError(f"no such file: {os.fspath(source)!s}")
        if os.path.getsize(source) == 0:
            raise AudioDecodeError("the file is empty (0 bytes)")
    try:
        return sf.SoundFile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioDecodeError(f"not a decodable audio file: {exc}") from exc


def _info(snd: sf.SoundFile) -> AudioInfo:
    sample_rate, channels, frames = int(snd.samplerate), int(snd.channels), int(snd.frames)
    if sample_rate <= 0 or channels <= 0:
        raise AudioDecodeError(f"bad header: {sample_rate} Hz, {channels} channels")
    return AudioInfo(
        format=str(snd.format),
        subtype=str(snd.subtype),
        sample_rate=sample_rate,
        channels=channels,
        frames=frames,
        duration_s=frames / sample_rate,
    )


def check_limits(info: AudioInfo, *, max_duration_s: float, max_channels: int) -> None:
    """Raise :class:`AudioLimitError` (:class:`AudioDecodeError` if no frames) per the header."""
    if info.frames == 0:
        raise AudioDecodeError("the file holds zero audio frames")
    if info.duration_s > max_duration_s:
        raise AudioLimitError(
            f"audio lasts {info.duration_s:.1f} s, over the limit of {max_duration_s:.1f} s"
        )
    if info.channels > max_channels:
        raise AudioLimitError(f"{info.channels} channels, over the limit of {max_channels}")
    _check_sample_rate(info.sample_rate)


def _check_sample_rate(sample_rate: int) -> None:
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioLimitError(
            f"sample rate {sample_rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )


def _read(snd: sf.SoundFile, *, frames: int) -> FloatArray:
    try:
        data = snd.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioDecodeError(f"the audio data is corrupt or truncated: {exc}") from exc
    samples = np.ascontiguousarray(data.T)
    if not np.isfinite(samples).all():
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return samples
