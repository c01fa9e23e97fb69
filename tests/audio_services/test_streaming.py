"""Streaming building blocks equal their whole-signal counterparts, block size regardless."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pedalboard
import pytest
from scipy import signal

from jacameno.audio_services.analysis import ClippingCounter, detect_clipping
from jacameno.audio_services.audio_io import resample, write_audio
from jacameno.audio_services.board_stream import WINDOW_S, BoardStream, fixed_blocks
from jacameno.audio_services.errors import AudioLimitError
from jacameno.audio_services.limiter import (
    ControlPeaks,
    FrameGains,
    LimiterCurve,
    control_step,
    limiter_gain,
)
from jacameno.audio_services.pitch_chunks import track_chunks
from jacameno.audio_services.reference_match import StreamingFir, WelchAccumulator
from jacameno.audio_services.resampling import StreamResampler
from jacameno.audio_services.sinks import ArraySink, FileSink
from jacameno.audio_services.sources import ArraySource, FileSource, ResampledSource
from jacameno.audio_services.spectral import (
    OnsetAccumulator,
    StftStream,
    mono_at_rate,
    onset_strength,
    stft_power_batches,
)
from jacameno.audio_services.spill import SpillBuffer
from jacameno.audio_services.true_peak import TruePeakMeter, TruePeakStream, true_peak_envelope
from jacameno.audio_services.waveform import WaveformPyramid, WaveformPyramidBuilder
from tests.audio_services.test_coaching import sing

FloatArray = npt.NDArray[np.float32]
BLOCK_SIZES = [1, 777, 4096, 65_536]


def noise(channels: int, frames: int, seed: int = 0) -> FloatArray:
    rng = np.random.default_rng(seed)
    samples = (0.3 * rng.standard_normal((channels, frames))).astype(np.float32)
    samples[:, frames // 3 : frames // 2] = 0.0  # a stretch of digital silence
    return samples


def in_blocks(samples: FloatArray, block_frames: int) -> list[FloatArray]:
    return [samples[:, i : i + block_frames] for i in range(0, samples.shape[1], block_frames)]


@pytest.mark.parametrize(
    ("rate", "target"),
    [(44_100, 22_050), (48_000, 22_050), (8_000, 22_050), (96_000, 44_100), (22_050, 22_050)],
)
@pytest.mark.parametrize("block_frames", BLOCK_SIZES)
def test_stream_resampler_equals_resample_poly(rate: int, target: int, block_frames: int) -> None:
    samples = noise(2, 30_011)
    resampler = StreamResampler(rate, target, 2)
    pieces = [resampler.push(block) for block in in_blocks(samples, block_frames)]
    streamed = np.concatenate([*pieces, resampler.finish()], axis=1)
    np.testing.assert_array_equal(streamed, resample(samples, rate, target))


def test_resampled_source_and_file_source(tmp_path: Path) -> None:
    samples = noise(2, 50_000)
    path = tmp_path / "noise.wav"
    write_audio(path, samples, 48_000, subtype="FLOAT")
    source = FileSource(path)
    assert (source.sample_rate, source.channels, source.frames_hint) == (48_000, 2, 50_000)
    resampled = ResampledSource(source, 44_100)
    streamed = np.concatenate(list(resampled.blocks(4_000)), axis=1)
    np.testing.assert_array_equal(streamed, resample(samples, 48_000, 44_100))
    assert resampled.frames_hint == streamed.shape[1]
    with pytest.raises(AudioLimitError):
        FileSource(path, max_duration_s=0.5)


@pytest.mark.parametrize("block_frames", BLOCK_SIZES)
def test_stft_stream_gives_the_whole_signal_frames(block_frames: int) -> None:
    signal = noise(1, 20_000)[0]
    whole = np.concatenate(list(stft_power_batches(signal, 1024, 256)))
    stream = StftStream(1024, 256)
    pieces = [p for block in in_blocks(signal[None], block_frames) for p in stream.push(block[0])]
    streamed = np.concatenate([*pieces, *stream.finish()])
    assert streamed.shape == whole.shape == (1 + 20_000 // 256, 513)
    np.testing.assert_array_equal(streamed, whole)


def test_onset_strength_spills_long_signals_to_disk() -> None:
    signal = noise(1, 22_050 * 30)[0]
    in_memory = onset_strength(signal, 22_050, n_fft=1024, hop=256)
    accumulator = OnsetAccumulator(22_050, n_fft=1024, hop=256, memory_bytes=1024)
    for block in in_blocks(signal[None], 10_000):
        accumulator.add(block[0])
    spilled = accumulator.result()
    # Equal but for float32 rounding: BLAS sums band energies of different batch shapes.
    np.testing.assert_allclose(spilled.total, in_memory.total, rtol=1e-5)
    np.testing.assert_allclose(spilled.below_200_hz, in_memory.below_200_hz, rtol=1e-5)


@pytest.mark.parametrize("rate", [44_100, 96_000, 192_000])
@pytest.mark.parametrize("block_frames", [37, 4096, 65_536])
def test_true_peak_stream_equals_the_whole_envelope(rate: int, block_frames: int) -> None:
    samples = noise(2, 40_003, seed=rate)
    stream = TruePeakStream(rate, 2)
    pieces = [stream.push(block) for block in in_blocks(samples, block_frames)]
    streamed = np.concatenate([*pieces, stream.finish()])
    np.testing.assert_array_equal(streamed, true_peak_envelope(samples, rate))
    meter = TruePeakMeter(rate, 2)
    for block in in_blocks(samples, block_frames):
        meter.add(block)
    assert meter.finish() == float(streamed.max())
    assert meter.sample_peak == float(np.abs(samples).max())


def test_true_peak_of_a_single_frame_folds_the_ringing_into_it() -> None:
    one = np.full((1, 1), 0.5, np.float32)
    stream = TruePeakStream(48_000, 1)
    envelope = np.concatenate([stream.push(one), stream.finish()])
    assert envelope.shape == (1,)
    np.testing.assert_array_equal(envelope, true_peak_envelope(one, 48_000))


def test_clipping_runs_carry_over_block_edges() -> None:
    samples = np.zeros((2, 3000), np.float32)
    samples[0, 995:1010] = 1.0  # a run across the first edge
    samples[1, 1999:2001] = -1.0  # too short, across the second edge
    samples[1, 2500:2503] = 1.0
    samples[0, 2998:] = 1.0  # still open at the end: 2 frames
    whole = detect_clipping(samples)
    for block_frames in (1, 7, 1000):
        counter = ClippingCounter(2)
        for block in in_blocks(samples, block_frames):
            counter.add(block)
        assert counter.report() == whole
    assert (whole.clip_events, whole.clipped_samples, whole.longest_run_frames) == (2, 18, 15)


@pytest.mark.parametrize("block_frames", [1_000, 65_536, 333_333])
def test_waveform_builder_equals_build(block_frames: int) -> None:
    samples = noise(2, 1_000_003)
    built = WaveformPyramid.build(samples, 44_100)
    builder = WaveformPyramidBuilder(44_100, 2, samples.shape[1])
    for block in in_blocks(samples, block_frames):
        builder.add(block)
    assert builder.finish().to_bytes() == built.to_bytes()


@pytest.mark.parametrize("memory_bytes", [1 << 30, 64])
def test_spill_buffer_keeps_rows_in_order_in_memory_or_on_disk(memory_bytes: int) -> None:
    rows = np.arange(3000, dtype=np.float32).reshape(1000, 3)
    with SpillBuffer(3, memory_bytes=memory_bytes) as buffer:
        for start in range(0, 1000, 64):
            buffer.append(rows[start : start + 64])
        assert buffer.spilled == (memory_bytes == 64)
        assert len(buffer) == 1000
        np.testing.assert_array_equal(np.concatenate(list(buffer.chunks(100))), rows)
        buffer.transform(lambda chunk: chunk * 2, rows_per_chunk=77)
        np.testing.assert_array_equal(np.concatenate(list(buffer.chunks())), rows * 2)
    assert len(buffer) == 0


def test_array_source_blocks() -> None:
    samples = noise(1, 10)
    blocks = list(ArraySource(samples[0], 8_000).blocks(4))
    assert [b.shape for b in blocks] == [(1, 4), (1, 4), (1, 2)]


@pytest.mark.parametrize("rate", [44_100, 96_000])
@pytest.mark.parametrize("block_frames", [1_000, 65_536])
def test_limiter_curve_streams_to_the_whole_signal_curve(rate: int, block_frames: int) -> None:
    rng = np.random.default_rng(rate)
    envelope = np.abs(rng.standard_normal(200_003)).astype(np.float32) * 0.4
    whole = limiter_gain(envelope, rate, 0.8)
    assert whole is not None
    step = control_step(rate)
    peaks, curve, frames = ControlPeaks(step), LimiterCurve(rate, 0.8), FrameGains(step, 200_003)
    pieces = [
        frames.push(curve.push(peaks.push(block[0])))
        for block in in_blocks(envelope[np.newaxis, :], block_frames)
    ]
    pieces += [frames.push(curve.push(peaks.finish())), frames.push(curve.finish())]
    streamed = np.concatenate([*pieces, frames.finish()])
    np.testing.assert_array_equal(streamed, whole)
    assert np.all(envelope * whole <= 0.8 * (1 + 1e-6))


@pytest.mark.parametrize("block_frames", [999, 65_536])
def test_streaming_fir_and_welch_equal_scipy(block_frames: int) -> None:
    samples = noise(2, 50_001)
    taps = signal.firwin2(4097, [0.0, 1_000.0, 22_050.0], [1.0, 0.5, 0.2], fs=44_100)
    fir = StreamingFir(taps, 2)
    pieces = [fir.push(block) for block in in_blocks(samples, block_frames)]
    streamed = np.concatenate([*pieces, fir.finish()], axis=1)
    expected = signal.oaconvolve(samples, taps[np.newaxis, :].astype(np.float32), "same", axes=1)
    np.testing.assert_allclose(streamed, expected, atol=1e-6)
    welch = WelchAccumulator(44_100)
    for block in in_blocks(samples, block_frames):
        welch.add(block)
    frequencies, spectrum_db = welch.spectrum_db()
    scipy_frequencies, density = signal.welch(samples.mean(axis=0), fs=44_100, nperseg=8192)
    np.testing.assert_array_equal(frequencies, scipy_frequencies)
    np.testing.assert_allclose(spectrum_db, 10 * np.log10(density), atol=1e-3)


def test_sinks_are_rewritten_by_each_pass(tmp_path: Path) -> None:
    samples = noise(2, 10_000)
    path = tmp_path / "out.flac"
    sink = FileSink(path, 44_100, 2, format="FLAC", subtype="PCM_24")
    for scale in (1.0, 0.5):  # the second pass replaces the first
        sink.begin()
        for block in in_blocks(samples * np.float32(scale), 3_000):
            sink.write(block)
        sink.end()
    written = np.concatenate(list(FileSource(path).blocks()), axis=1)
    np.testing.assert_allclose(written, samples * 0.5, atol=1e-6)
    array = ArraySink(np.zeros_like(samples))
    array.begin()
    array.write(samples[:, :5_000])
    with pytest.raises(AssertionError):
        array.end()


@pytest.mark.parametrize(
    "plugin",
    [
        pedalboard.Compressor(threshold_db=-20, ratio=4),
        pedalboard.Reverb(room_size=0.8),
        pedalboard.Delay(delay_seconds=0.05, feedback=0.4),
        pedalboard.Chorus(),
        pedalboard.NoiseGate(threshold_db=-30),
    ],
    ids=lambda plugin: type(plugin).__name__,
)
def test_board_stream_equals_processing_the_whole_signal(plugin: object) -> None:
    samples = noise(2, 30_011)
    board = pedalboard.Pedalboard([plugin])  # type: ignore[attr-defined,list-item]
    whole = board(samples, 44_100)
    plugin.reset()  # type: ignore[attr-defined]
    stream = BoardStream(plugin, 44_100, 2)
    pieces = [stream.push(block) for block in in_blocks(samples, 1_001)]
    streamed = np.concatenate([*pieces, stream.finish()], axis=1)
    np.testing.assert_array_equal(streamed, whole)


def test_board_stream_runs_the_pitch_shifter_over_windows() -> None:
    # pedalboard's pitch shifter outputs silence with reset=False: windows instead.
    rate = 22_050
    time_s = np.arange(int(rate * (WINDOW_S + 10.0))) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220.0 * time_s)).astype(np.float32)[np.newaxis, :]
    up = BoardStream(pedalboard.PitchShift(semitones=12.0), rate, 1)
    pieces = [up.push(block) for block in in_blocks(tone, 65_536)]
    shifted = np.concatenate([*pieces, up.finish()], axis=1)
    assert shifted.shape == tone.shape
    for start_s in (5.0, WINDOW_S - 0.02, WINDOW_S + 5.0):  # inside windows and at the seam
        part = shifted[0, int(start_s * rate) : int((start_s + 0.5) * rate)]
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
        assert np.fft.rfftfreq(len(part), 1 / rate)[np.argmax(spectrum)] == pytest.approx(
            440, abs=6
        )
        assert 0.2 < float(np.abs(part).max()) < 0.4
    same = BoardStream(pedalboard.PitchShift(semitones=0.0), rate, 1)
    pieces = [same.push(block) for block in in_blocks(tone, 4_000)]
    np.testing.assert_allclose(np.concatenate([*pieces, same.finish()], axis=1), tone, atol=1e-5)


def test_fixed_blocks_cut_and_pad_to_length() -> None:
    samples = noise(1, 1_000)
    blocks = list(fixed_blocks(in_blocks(samples, 300), 1, 1_500, 400))
    assert [block.shape[1] for block in blocks] == [400, 400, 400, 300]
    joined = np.concatenate(blocks, axis=1)
    np.testing.assert_array_equal(joined[:, :1_000], samples)
    assert not joined[:, 1_000:].any()
    assert [b.shape[1] for b in fixed_blocks(in_blocks(samples, 300), 1, 500, 400)] == [400, 100]


@pytest.mark.parametrize("rate", [44_100, 16_000])
def test_praat_in_chunks_equals_one_praat_call(rate: int) -> None:
    notes = [(0.3 + 0.9 * i, 1.0 + 0.9 * i, float(57 + (5 * i) % 12)) for i in range(36)]
    take, _ = sing(notes, sample_rate=rate)
    source = ArraySource(take, rate)
    tracking_rate = min(rate, 22_050)
    options = {"time_step_s": 0.01, "min_hz": 60.0, "max_hz": 1100.0, "envelope_step_s": 0.002}
    whole = track_chunks(source, tracking_rate, chunk_s=1_000.0, **options)
    chunked = track_chunks(source, tracking_rate, chunk_s=8.0, **options)  # four chunks
    mono = mono_at_rate(take[np.newaxis, :], rate, tracking_rate)
    assert whole.duration_s == chunked.duration_s == len(mono) / tracking_rate
    np.testing.assert_allclose(chunked.times_s, whole.times_s, atol=1e-9)
    np.testing.assert_array_equal(chunked.f0_hz > 0, whole.f0_hz > 0)
    np.testing.assert_allclose(chunked.f0_hz, whole.f0_hz, atol=0.05)  # Hz: sample rounding
    np.testing.assert_allclose(chunked.level_db, whole.level_db, atol=1e-4)
    np.testing.assert_allclose(chunked.envelope_db, whole.envelope_db, atol=1e-4)


@pytest.mark.parametrize("total", [703_395, 703_394, 703_396])
def test_praat_frame_count_is_praats_own_at_a_rounding_edge(total: int) -> None:
    # 703,395 samples at 22,050 Hz (31.9 s): total / rate and Praat's dx * nx fall on
    # either side of a frame boundary; the count must follow Praat's arithmetic.
    take = np.random.default_rng(7).standard_normal(total).astype(np.float32) * 0.1
    track = track_chunks(
        ArraySource(take, 22_050),
        22_050,
        time_step_s=0.01,
        min_hz=60.0,
        max_hz=1100.0,
        envelope_step_s=0.002,
    )
    assert len(track.times_s) == len(track.f0_hz) > 3_000
