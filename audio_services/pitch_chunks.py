"""Praat's pitch analysis of a take of any length, in overlapping chunks on one frame grid.

Praat's autocorrelation method (``Sound: To Pitch (ac)``) wants the whole
sound in memory, twice over (as the Sound and as float64 frames). Here the
take is decoded and mixed to mono at the tracking rate once, into a
:class:`~audio_services.spill.SpillBuffer` (a temporary file past 8 MB, about
90 s), and read back:

1. its length fixes the frame grid Praat would lay over the whole take (frames
   centred in it), and its peak about its mean is Praat's global peak;
2. chunks of :data:`CHUNK_S` seconds plus :data:`CONTEXT_S` either side, each
   cut so that Praat, centring frames in the chunk, lands them exactly on the
   whole take's grid (``start_time`` carries the chunk's position), with the
   silence threshold rescaled by the take's peak over the chunk's (Praat
   compares each frame's peak with the peak of the sound it is given). Only
   the middle frames of each chunk are kept: the path finder's choices settle
   within a fraction of a second, well inside the context.

A take no longer than one chunk is analysed in one piece, exactly as before.
Frame levels, zero-crossing rates and the finer level envelope are computed
from the same chunks. Memory is a chunk's worth of samples plus a few values
per frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import parselmouth

from jacameno.audio_services.audio_io import to_mono
from jacameno.audio_services.resampling import StreamResampler
from jacameno.audio_services.sources import BlockSource
from jacameno.audio_services.spill import SpillBuffer

__all__ = ["CHUNK_S", "CONTEXT_S", "ChunkedPitch", "track_chunks"]

Float32Array = npt.NDArray[np.float32]
Float64Array = npt.NDArray[np.float64]

CHUNK_S = 60.0
"""Seconds of frames each Praat call contributes."""
CONTEXT_S = 1.0
"""Seconds analysed on either side of a chunk and then dropped."""
PERIODS_PER_WINDOW = 3.0  # Praat's default for the ac method
SILENCE_THRESHOLD = 0.03  # Praat's default, relative to the whole take's peak
LEVEL_WINDOW_S = 0.005  # half-width of the envelope's RMS windows


@dataclass(frozen=True, slots=True, eq=False)
class ChunkedPitch:
    """Praat's frames of a whole take, and the levels measured around them."""

    times_s: Float64Array
    f0_hz: Float64Array  # 0 where unvoiced, as Praat reports it
    strength: Float64Array
    level_db: Float64Array
    zero_crossing_hz: Float64Array
    envelope_db: Float64Array
    duration_s: float


@dataclass(frozen=True, slots=True)
class _Chunk:
    first_kept: int  # frames kept: first_kept .. stop_kept - 1
    stop_kept: int
    first_frame: int  # frames Praat computes: first_frame .. stop_frame - 1
    stop_frame: int
    start_sample: int  # samples given to Praat: start_sample .. start_sample + length - 1
    length: int


def track_chunks(
    source: BlockSource,
    rate: int,
    *,
    time_step_s: float,
    min_hz: float,
    max_hz: float,
    envelope_step_s: float,
    chunk_s: float = CHUNK_S,
) -> ChunkedPitch:
    """Praat pitch frames of ``source`` mixed to mono at ``rate`` Hz.

    No frames at all when the take is too short for one analysis window. The
    envelope is the RMS level in 10 ms windows every ``envelope_step_s`` from 0 s.
    """
    with SpillBuffer(1) as mono:
        # One decoding and resampling: the mono signal is kept (a temporary file
        # past the spill budget: 88 kB per second) for the chunks to read.
        total, peak = _keep_mono(source, rate, mono)
        return _track(
            mono, total, peak, rate, time_step_s, min_hz, max_hz, envelope_step_s, chunk_s
        )


def _track(
    mono: SpillBuffer,
    total: int,
    peak: float,
    rate: int,
    time_step_s: float,
    min_hz: float,
    max_hz: float,
    envelope_step_s: float,
    chunk_s: float,
) -> ChunkedPitch:
    duration_s = total / rate
    window_s = PERIODS_PER_WINDOW / min_hz
    if duration_s < window_s + 2 * time_step_s:
        empty = np.zeros(0)
        return ChunkedPitch(empty, empty, empty, empty, empty, empty, duration_s)
    # Praat's own arithmetic (its duration is the sample period times the count):
    # total / rate can round to the other side of a frame boundary (31.9 s at 22,050 Hz).
    num_frames = math.floor(((1.0 / rate) * total - window_s) / time_step_s) + 1
    plan = _plan(total, rate, num_frames, time_step_s, window_s, chunk_s)
    envelope_times_s = np.arange(0.0, duration_s, envelope_step_s)
    # The grid's first frame time, as Praat places it, and the edges between
    # chunks' envelope points (half a frame before each chunk's first frame).
    first_time_s = duration_s / 2 - (num_frames - 1) / 2 * time_step_s
    edges_s = [first_time_s + (c.first_kept - 0.5) * time_step_s for c in plan[1:]]
    edges_s = [-math.inf, *edges_s, math.inf]
    # Praat's global peak (about the mean) decides silence: chunks of a longer
    # take are given a threshold relative to the whole take's.
    take_peak = None if len(plan) == 1 else peak
    columns: list[list[Float64Array]] = [[] for _ in range(6)]
    blocks = (rows[:, 0] for rows in mono.chunks(1 << 16))
    for index, (chunk, samples) in enumerate(zip(plan, _cut(plan, blocks), strict=True)):
        times_s, f0_hz, strength = _praat(
            samples, chunk, rate, time_step_s, min_hz, max_hz, take_peak
        )
        level_db, crossings_hz = _levels(
            samples, chunk.start_sample, total, rate, times_s, time_step_s
        )
        first_s, stop_s = edges_s[index], edges_s[index + 1]
        shown = envelope_times_s[(envelope_times_s >= first_s) & (envelope_times_s < stop_s)]
        envelope_db, _ = _levels(samples, chunk.start_sample, total, rate, shown, LEVEL_WINDOW_S)
        for column, values in zip(
            columns, (times_s, f0_hz, strength, level_db, crossings_hz, envelope_db), strict=True
        ):
            column.append(values)
    times_s, f0_hz, strength, level_db, crossings_hz, envelope_db = (
        np.concatenate(column) for column in columns
    )
    return ChunkedPitch(
        times_s=times_s,
        f0_hz=f0_hz,
        strength=strength,
        level_db=level_db,
        zero_crossing_hz=crossings_hz,
        envelope_db=envelope_db,
        duration_s=duration_s,
    )


def _mono_at_rate(source: BlockSource, rate: int) -> Iterator[Float32Array]:
    """``source`` mixed to mono, then resampled (as ``spectral.mono_at_rate``: half the work)."""
    resampler = StreamResampler(source.sample_rate, rate, 1)
    for block in source.blocks():
        yield resampler.push(to_mono(block))
    yield resampler.finish()


def _keep_mono(source: BlockSource, rate: int, mono: SpillBuffer) -> tuple[int, float]:
    """Mix ``source`` to mono at ``rate`` into ``mono``: its samples and Praat's global peak.

    The peak is the largest distance of a sample from the signal's mean.
    """
    total, accumulated, low, high = 0, 0.0, math.inf, -math.inf
    for block in _mono_at_rate(source, rate):
        samples = block[0]
        if len(samples):
            mono.append(samples)
            total += len(samples)
            accumulated += float(samples.sum(dtype=np.float64))
            low, high = min(low, float(samples.min())), max(high, float(samples.max()))
    mean = accumulated / max(total, 1)
    return total, max(high - mean, mean - low, 0.0) if total else 0.0


def _plan(
    total: int, rate: int, num_frames: int, time_step_s: float, window_s: float, chunk_s: float
) -> list[_Chunk]:
    """Chunks whose frames, centred by Praat, fall on the whole take's frame grid."""
    per_chunk = max(1, round(chunk_s / time_step_s))
    context = round(CONTEXT_S / time_step_s)
    if num_frames <= per_chunk + 2 * context:
        return [_Chunk(0, num_frames, 0, num_frames, 0, total)]
    # Frames centred in a sound of L samples starting at sample a have their
    # midpoint at (a + L / 2) / rate; for frames c0 .. c1 - 1 of the take's grid
    # that is where 2a + L = total + step * (c0 + c1 - n), step in samples.
    step = Fraction(rate) * Fraction(time_step_s).limit_denominator(1_000_000)
    chunks = []
    for first_kept in range(0, num_frames, per_chunk):
        stop_kept = min(first_kept + per_chunk, num_frames)
        first = max(0, first_kept - context)
        stop = min(num_frames, stop_kept + context)
        while (step * (first + stop - num_frames)).denominator != 1:
            if stop < num_frames:
                stop += 1
            else:
                first -= 1
        twice_middle = total + int(step * (first + stop - num_frames))
        length = round(rate * (window_s + (stop - first - 0.5) * time_step_s))
        length += (twice_middle - length) % 2
        chunks.append(
            _Chunk(first_kept, stop_kept, first, stop, (twice_middle - length) // 2, length)
        )
    return chunks


def _cut(plan: list[_Chunk], blocks: Iterator[Float32Array]) -> Iterator[Float64Array]:
    """Each planned chunk's samples as float64 (zeros outside the signal), in order."""
    buffer = np.zeros(0, np.float32)
    buffer_start = 0
    for index, chunk in enumerate(plan):
        stop = chunk.start_sample + chunk.length
        pending, available = [buffer], buffer_start + len(buffer)
        while available < stop:
            block = next(blocks, None)
            if block is None:
                break
            pending.append(block)
            available += len(block)
        buffer = np.concatenate(pending)
        samples = np.zeros(chunk.length, np.float64)
        first = max(chunk.start_sample, buffer_start)
        last = min(stop, buffer_start + len(buffer))
        if last > first:
            samples[first - chunk.start_sample : last - chunk.start_sample] = buffer[
                first - buffer_start : last - buffer_start
            ]
        yield samples
        if index + 1 < len(plan):
            keep_from = max(buffer_start, plan[index + 1].start_sample)
            buffer = buffer[keep_from - buffer_start :]
            buffer_start = keep_from


def _praat(
    samples: Float64Array,
    chunk: _Chunk,
    rate: int,
    time_step_s: float,
    min_hz: float,
    max_hz: float,
    take_peak: float | None,
) -> tuple[Float64Array, Float64Array, Float64Array]:
    """Times, f0 (0 if unvoiced) and strength of the chunk's kept frames.

    ``take_peak`` (the whole take's peak about its mean) rescales the silence
    threshold for a chunk of a longer take; ``None`` for the whole take.
    """
    threshold = SILENCE_THRESHOLD
    if take_peak is not None:
        chunk_peak = float(np.abs(samples - samples.mean()).max())
        if chunk_peak > 0.0:
            threshold = SILENCE_THRESHOLD * take_peak / chunk_peak
    sound = parselmouth.Sound(
        samples, sampling_frequency=rate, start_time=chunk.start_sample / rate
    )
    pitch = sound.to_pitch_ac(
        time_step=time_step_s,
        pitch_floor=min_hz,
        pitch_ceiling=max_hz,
        silence_threshold=threshold,
    )
    times_s = np.asarray(pitch.xs(), dtype=np.float64)
    if len(times_s) != chunk.stop_frame - chunk.first_frame:
        raise AssertionError(
            f"Praat laid {len(times_s)} frames over a chunk planned for "
            f"{chunk.stop_frame - chunk.first_frame}"
        )
    kept = slice(chunk.first_kept - chunk.first_frame, chunk.stop_kept - chunk.first_frame)
    selected = pitch.selected_array
    return (
        times_s[kept],
        np.asarray(selected["frequency"], dtype=np.float64)[kept],
        np.asarray(selected["strength"], dtype=np.float64)[kept],
    )


def _levels(
    samples: Float64Array,
    start_sample: int,
    total: int,
    rate: int,
    times_s: Float64Array,
    window_s: float,
) -> tuple[Float64Array, Float64Array]:
    """RMS level (dBFS) and zero-crossing rate (Hz) in windows of +-``window_s``.

    ``samples`` are samples ``start_sample ..`` of a signal of ``total`` samples,
    silent outside it; each window is clipped where the signal's zero padding ends.
    """
    if not len(times_s):
        return np.zeros(0), np.zeros(0)
    half = max(round(window_s * rate), 1)
    centres = np.rint(times_s * rate).astype(np.int64)
    low = centres - half
    high = np.minimum(centres + half, total + half - 1)
    origin, end = int(low[0]), int(high[-1])
    local = np.zeros(end - origin + 1, np.float64)
    first, last = max(origin, start_sample, 0), min(end + 1, start_sample + len(samples), total)
    if last > first:
        local[first - origin : last - origin] = samples[first - start_sample : last - start_sample]
    energy = np.concatenate([[0.0], np.cumsum(local**2)])
    signs = np.signbit(local).astype(np.int8)
    crossings = np.concatenate([[0], np.cumsum(np.abs(np.diff(signs)))])
    low -= origin
    high -= origin
    width = np.maximum(high - low, 1)
    rms = np.sqrt((energy[high] - energy[low]) / width)
    level_db = 20.0 * np.log10(np.maximum(rms, 1e-10))
    crossing_hz = (crossings[high - 1] - crossings[low]) * rate / (2.0 * width)
    return level_db, crossing_hz.astype(np.float64)
