"""audio_io: probing, decoding, limits and bad input, on files generated in tmp_path."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from jacameno.audio_services.audio_io import (
    DEFAULT_MAX_CHANNELS,
    load_audio,
    probe,
    read_blocks,
    resample,
    to_mono,
    write_audio,
)
from jacameno.audio_services.errors import AudioDecodeError, AudioError, AudioLimitError


def sine(
    frequency_hz: float = 1000.0,
    *,
    sample_rate: int = 44_100,
    num_seconds: float = 0.5,
    channels: int = 2,
    amplitude: float = 0.5,
) -> npt.NDArray[np.float32]:
    """``(channels, frames)`` sine, each channel at a slightly different level."""
    time_s = np.arange(int(sample_rate * num_seconds)) / sample_rate
    tone = amplitude * np.sin(2 * np.pi * frequency_hz * time_s)
    return np.stack([tone * (1.0 - 0.1 * c) for c in range(channels)]).astype(np.float32)


def write_wav_header(
    path: Path, *, sample_rate: int, channels: int, bits: int, data_bytes: int
) -> None:
    """A canonical 44-byte PCM WAV header claiming ``data_bytes`` of samples."""
    block_align = channels * bits // 8
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        bits,
        b"data",
        data_bytes,
    )
    path.write_bytes(header)


# --- good input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_", "subtype", "suffix", "tolerance"),
    [
        ("WAV", "PCM_16", ".wav", 1e-4),
        ("WAV", "PCM_24", ".wav", 1e-6),
        ("WAV", "FLOAT", ".wav", 0.0),
        ("FLAC", "PCM_16", ".flac", 1e-4),
        ("OGG", "VORBIS", ".ogg", None),
        ("MP3", "MPEG_LAYER_III", ".mp3", None),
    ],
)
def test_formats_probe_and_decode(
    tmp_path: Path, format_: str, subtype: str, suffix: str, tolerance: float | None
) -> None:
    samples = sine()
    path = tmp_path / f"tone{suffix}"
    sf.write(path, samples.T, 44_100, format=format_, subtype=subtype)
    info = probe(path)
    assert (info.format, info.subtype, info.sample_rate, info.channels) == (
        format_,
        subtype,
        44_100,
        2,
    )
    assert info.duration_s == pytest.approx(0.5, abs=0.05)
    decoded, rate = load_audio(path)
    assert decoded.dtype == np.float32
    assert decoded.shape[0] == 2
    assert rate == 44_100
    if tolerance is not None:
        assert decoded.shape == samples.shape
        assert np.max(np.abs(decoded - samples)) <= tolerance
    else:
        # Lossy codecs: same level (RMS within 1 dB), encoder delay aside.
        ratio_db = 20 * np.log10(np.sqrt(np.mean(decoded**2)) / np.sqrt(np.mean(samples**2)))
        assert abs(ratio_db) < 1.0


def test_decodes_by_content_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "really_flac.mp3"
    sf.write(path, sine().T, 44_100, format="FLAC")
    assert probe(path).format == "FLAC"
    assert load_audio(path)[0].shape == (2, 22_050)


@pytest.mark.parametrize("sample_rate", [8_000, 22_050, 44_100, 48_000, 96_000, 192_000])
def test_sample_rates_8k_to_192k(tmp_path: Path, sample_rate: int) -> None:
    path = tmp_path / "rate.wav"
    write_audio(path, sine(1000.0, sample_rate=sample_rate, num_seconds=0.25), sample_rate)
    samples, rate = load_audio(path)
    assert rate == sample_rate
    assert samples.shape == (2, sample_rate // 4)


@pytest.mark.parametrize("sample_rate", [4_000, 384_000])
def test_sample_rate_outside_range_is_refused(tmp_path: Path, sample_rate: int) -> None:
    path = tmp_path / "rate.wav"
    sf.write(path, sine(100.0, sample_rate=sample_rate, num_seconds=0.1).T, sample_rate)
    with pytest.raises(AudioLimitError, match="sample rate"):
        load_audio(path)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_mono_stereo_and_5_1(tmp_path: Path, channels: int) -> None:
    path = tmp_path / "channels.wav"
    write_audio(path, sine(channels=channels), 44_100)
    assert probe(path).channels == channels
    samples, _ = load_audio(path)
    assert samples.shape == (channels, 22_050)
    mono, _ = load_audio(path, mono=True)
    assert mono.shape == (1, 22_050)
    np.testing.assert_allclose(mono[0], samples.mean(axis=0), atol=1e-6)


def test_too_many_channels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "7_1.wav"
    sf.write(path, sine(channels=DEFAULT_MAX_CHANNELS + 2).T, 44_100)
    with pytest.raises(AudioLimitError, match="channels"):
        load_audio(path)
    assert load_audio(path, max_channels=8)[0].shape[0] == 8


def test_resampling_keeps_frequency_and_length(tmp_path: Path) -> None:
    path = tmp_path / "44k.wav"
    write_audio(path, sine(1000.0, num_seconds=1.0, channels=1), 44_100)
    samples, rate = load_audio(path, target_sample_rate=48_000)
    assert rate == 48_000
    assert samples.shape == (1, 48_000)
    spectrum = np.abs(np.fft.rfft(samples[0] * np.hanning(48_000)))
    assert np.argmax(spectrum) == pytest.approx(1000, abs=1)  # 1 Hz bins


def test_file_objects_are_accepted() -> None:
    buffer = io.BytesIO()
    write_audio(buffer, sine(), 44_100, format="FLAC", subtype="PCM_16")
    buffer.seek(0)
    assert probe(buffer).format == "FLAC"
    buffer.seek(0)
    assert load_audio(buffer)[0].shape == (2, 22_050)


# --- bad input -----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError, match="no such file"):
        probe(tmp_path / "nothing.wav")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty"):
        load_audio(path)


def test_text_file_named_wav(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("verse 1: la la la\n" * 50)
    with pytest.raises(AudioDecodeError, match="not a decodable audio file"):
        probe(path)
    with pytest.raises(AudioDecodeError):
        load_audio(path)


def test_random_bytes_after_a_riff_header(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.wav"
    rng = np.random.default_rng(7)
    path.write_bytes(b"RIFF\x00\x10\x00\x00WAVE" + rng.bytes(4096))
    with pytest.raises(AudioDecodeError):
        load_audio(path)


def test_zero_length_wav(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 2), dtype=np.float32), 44_100)
    assert probe(path).frames == 0
    with pytest.raises(AudioDecodeError, match="zero audio frames"):
        load_audio(path)


def test_truncated_wav_yields_its_intact_prefix(tmp_path: Path) -> None:
    full = tmp_path / "full.wav"
    write_audio(full, sine(), 44_100, subtype="PCM_16")
    data = full.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: 44 + 4 * 10_000 + 3])  # 10,000 stereo frames and a torn one
    samples, _ = load_audio(cut)
    assert samples.shape == (2, 10_000)
    np.testing.assert_allclose(samples, load_audio(full)[0][:, :10_000])


def test_truncated_flac_is_refused(tmp_path: Path) -> None:
    full = tmp_path / "full.flac"
    rng = np.random.default_rng(1)
    noise = (0.3 * rng.standard_normal((2, 44_100))).astype(np.float32)
    write_audio(full, noise, 44_100, format="FLAC", subtype="PCM_16")
    data = full.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="corrupt or truncated"):
        load_audio(cut)


def test_non_finite_samples_are_silenced(tmp_path: Path) -> None:
    samples = sine(channels=1)
    samples[0, 100] = np.nan
    samples[0, 200] = np.inf
    samples[0, 300] = -np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, samples.T, 44_100, subtype="FLOAT")
    decoded, _ = load_audio(path)
    assert np.isfinite(decoded).all()
    assert decoded[0, [100, 200, 300]].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(decoded[0, :100], samples[0, :100])
    blocks = list(read_blocks(path, 256))
    assert np.isfinite(np.concatenate(blocks, axis=1)).all()


def test_ten_hour_file_is_refused_from_its_header(tmp_path: Path) -> None:
    # 10 h of 8 kHz 8-bit mono is 288 MB: a sparse file costs no disk and no time.
    path = tmp_path / "ten_hours.wav"
    data_bytes = 10 * 3600 * 8_000
    write_wav_header(path, sample_rate=8_000, channels=1, bits=8, data_bytes=data_bytes)
    with path.open("r+b") as handle:
        handle.truncate(44 + data_bytes)
    assert probe(path).duration_s == pytest.approx(36_000.0)
    started = time.perf_counter()
    with pytest.raises(AudioLimitError, match=r"36000\.0 s"):
        load_audio(path)
    with pytest.raises(AudioLimitError):
        next(read_blocks(path, 4096))
    assert time.perf_counter() - started < 1.0


def test_duration_limit_comes_from_the_argument(tmp_path: Path) -> None:
    path = tmp_path / "half_second.wav"
    write_audio(path, sine(), 44_100)
    with pytest.raises(AudioLimitError, match=r"over the limit of 0\.2 s"):
        load_audio(path, max_duration_s=0.2)
    assert load_audio(path, max_duration_s=1.0)[0].shape == (2, 22_050)


def test_decoded_size_is_bounded(tmp_path: Path) -> None:
    # 10 min of 8-bit 192 kHz 5.1 is under the duration limit but 2.6 GiB as float32.
    path = tmp_path / "huge.wav"
    data_bytes = 10 * 60 * 192_000 * 6
    write_wav_header(path, sample_rate=192_000, channels=6, bits=8, data_bytes=data_bytes)
    with path.open("r+b") as handle:
        handle.truncate(44 + data_bytes)
    with pytest.raises(AudioLimitError, match="read_blocks"):
        load_audio(path)
    first = next(read_blocks(path, 1024))
    assert first.shape == (6, 1024)


def test_bad_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "no_channels.wav"
    write_wav_header(path, sample_rate=44_100, channels=0, bits=16, data_bytes=1000)
    with path.open("ab") as handle:
        handle.write(bytes(1000))
    with pytest.raises(AudioDecodeError):
        load_audio(path)


# --- streaming and writing ------------------------------------------------------


def test_read_blocks_streams_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "stream.flac"
    samples = sine(num_seconds=1.0)
    write_audio(path, samples, 44_100, format="FLAC")
    blocks = list(read_blocks(path, 10_000))
    assert [b.shape[1] for b in blocks] == [10_000] * 4 + [4_100]
    np.testing.assert_allclose(np.concatenate(blocks, axis=1), samples, atol=1e-6)
    with pytest.raises(ValueError, match="block_frames"):
        next(read_blocks(path, 0))


def test_write_round_trip_pcm24(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    samples = sine(num_seconds=0.1)
    write_audio(path, samples, 48_000)
    info = probe(path)
    assert (info.format, info.subtype, info.sample_rate) == ("WAV", "PCM_24", 48_000)
    np.testing.assert_allclose(load_audio(path)[0], samples, atol=2**-22)


def test_write_refuses_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.wav"
    with pytest.raises(ValueError, match="channels, frames"):
        write_audio(path, np.zeros(100, dtype=np.float32), 44_100)
    with pytest.raises(AudioError, match="non-finite"):
        write_audio(path, np.full((1, 10), np.nan, dtype=np.float32), 44_100)
    with pytest.raises(ValueError, match="cannot hold"):
        write_audio(path, sine(), 44_100, format="FLAC", subtype="FLOAT")
    with pytest.raises(AudioLimitError):
        write_audio(path, sine(), 1_000)


def test_to_mono_and_resample_helpers() -> None:
    stereo = sine(channels=2)
    assert to_mono(stereo).shape == (1, stereo.shape[1])
    mono = stereo[:1]
    assert to_mono(mono) is mono
    assert resample(stereo, 44_100, 22_050).shape == (2, stereo.shape[1] // 2)


def test_audio_info_json_is_document_safe(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    write_audio(path, sine(), 44_100)
    data = probe(path).to_json()
    assert data == {
        "format": "WAV",
        "subtype": "PCM_24",
        "sample_rate": 44_100.0,
        "channels": 2.0,
        "frames": 22_050.0,
        "duration_s": 0.5,
    }
    assert all(isinstance(v, (str, float)) for v in data.values())
