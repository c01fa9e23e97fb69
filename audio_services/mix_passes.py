"""The mixer's passes over its stems, block by block (the what is in :mod:`audio_services.mixing`).

Every pass reads the stems from their start (a file is decoded again; an array
is sliced), cut into blocks of one size and padded to the mix's length, so
blocks of all stems line up. Effects run through
:class:`~audio_services.board_stream.BoardStream`, fresh in every pass, so
each pass processes a stem identically.

1. :meth:`StemPass.measure_input`: each playing stem through its own effects,
   metered (its input loudness, in the padded timeline);
2. :meth:`StemPass.stage`: where the role has an insert chain, the staged stem
   through it, metered (the make-up gain follows);
3. :func:`bus_pass`: every stem staged, panned and summed, the shared reverb
   run on the summed sends; the bus is metered and kept in a
   :class:`~audio_services.spill.SpillBuffer` (memory, then a temporary file);
4. :func:`finish_bus`: the kept bus through the bus gain and glue chain, once
   for its true peak and once more, trimmed under the ceiling if need be,
   metered and written to the sink.

Each pass's output (decoded, resampled, through the effects) is kept in a
temporary file for the next while the mix's
:class:`~audio_services.spill.DiskBudget` lasts, so a
stem is normally decoded once and its chains run once; past the budget the
next pass computes it again (slower, but memory and disk stay bounded).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyebur128

from jacameno.audio_services.arrangement import GainCurve, to_stereo
from jacameno.audio_services.board_stream import BoardStream, fixed_blocks
from jacameno.audio_services.metering import LoudnessMeter, amplitude_to_db, db_to_amplitude
from jacameno.audio_services.mix_presets import LEAD_LUFS, PROCESSING_LUFS, MixPreset, RoleMix
from jacameno.audio_services.plugins import EffectSpec, build_pedalboard
from jacameno.audio_services.sinks import AudioSink
from jacameno.audio_services.sources import BLOCK_FRAMES, ArraySource, BlockSource
from jacameno.audio_services.spill import DiskBudget, KeptBlocks, SpillBuffer
from jacameno.audio_services.true_peak import TruePeakMeter

__all__ = ["BusFigures", "StemPass", "bus_pass", "finish_bus"]

FloatArray = npt.NDArray[np.float32]

MAX_STAGING_BOOST_DB = 30.0
MAX_MAKEUP_DB = 24.0
_LOUDNESS = pyebur128.MeasurementMode.MODE_I


class StemPass:
    """One playing stem: its source, effects, role and the gains found for it."""

    def __init__(
        self,
        source: BlockSource,
        chain: Sequence[EffectSpec],
        role: RoleMix,
        *,
        volume_db: float,
        pan_gains: tuple[float, float],
        num_frames: int,
        gains: GainCurve | None = None,  # automation, in place of volume_db and pan_gains
    ) -> None:
        self.source = source
        self.gains = gains
        self.chain = [effect for effect in chain if effect.enabled]
        self.role = role
        self.volume_db = volume_db
        self.pan_gains = pan_gains
        self.num_frames = num_frames
        self.input_lufs = -math.inf
        self.staging_db = 0.0  # pre plus post gain, 0 for a silent stem
        self.level_lufs = -math.inf
        self._pre_db = 0.0
        self._post_db = 0.0
        self._staged = False
        # Pass outputs kept for the next pass while the disk budget lasts.
        self._kept_track: KeptBlocks | None = None
        self._kept_inserts: KeptBlocks | None = None

    @property
    def sample_rate(self) -> int:
        return self.source.sample_rate

    def measure_input(self, budget: DiskBudget) -> None:
        """Pass 1: the loudness through the stem's own effects (the result kept if it fits)."""
        channels = self.source.channels
        meter = LoudnessMeter(self.sample_rate, channels, _LOUDNESS)
        # An array without effects costs nothing to read again; a file, decoding.
        worth_keeping = bool(self.chain) or not isinstance(self.source, ArraySource)
        keeper = KeptBlocks(channels, budget) if worth_keeping else None
        for block in self._track():
            meter.add(block)
            if keeper is not None:
                keeper.keep(block)
        self._kept_track = keeper if keeper is not None and keeper.complete else None
        self.input_lufs = meter.integrated_lufs

    def stage(self, budget: DiskBudget) -> None:
        """Pass 2 (where the role has inserts): bring the stem to its role's level."""
        if not math.isfinite(self.input_lufs):
            return
        target_lufs = LEAD_LUFS + self.role.level_lu
        self._pre_db = min(PROCESSING_LUFS - self.input_lufs, MAX_STAGING_BOOST_DB)
        self._staged = True
        level_lufs = self.input_lufs + self._pre_db
        if self.role.chain:
            processed = self._measure_inserts(budget)
            if self._kept_inserts is not None and self._kept_track is not None:
                self._kept_track.close()  # pass 3 reads the inserts' output instead
                self._kept_track = None
            if math.isfinite(processed):
                level_lufs = processed
        # Make-up for what the chain took, capped so a gate that closed stays quiet.
        self._post_db = min(target_lufs - level_lufs, MAX_MAKEUP_DB + target_lufs - PROCESSING_LUFS)
        self.staging_db = self._pre_db + self._post_db
        self.level_lufs = level_lufs + self._post_db

    def panned(self) -> Iterator[FloatArray]:
        """The staged stem at its volume and pan, as stereo blocks."""
        post = np.float32(db_to_amplitude(self._post_db))
        scale = db_to_amplitude(self.volume_db)
        left, right = (scale * gain for gain in self.pan_gains)
        if self._kept_inserts is not None:
            blocks = self._kept_inserts.blocks(BLOCK_FRAMES)
        else:
            blocks = self._inserts() if self._staged else self._tracked()
        if self._staged:
            # Never in place: blocks may be views of the input.
            blocks = (block * post for block in blocks)
        yield from to_stereo(blocks, left, right, self.gains)

    def close(self) -> None:
        """Drop the kept outputs (and give their disk back to the budget)."""
        for keeper in (self._kept_track, self._kept_inserts):
            if keeper is not None:
                keeper.close()
        self._kept_track = self._kept_inserts = None

    def _measure_inserts(self, budget: DiskBudget) -> float:
        """Loudness through the inserts, keeping their output while the budget lasts."""
        channels = self.source.channels
        meter = LoudnessMeter(self.sample_rate, channels, _LOUDNESS)
        keeper = KeptBlocks(channels, budget)
        for block in self._inserts():
            meter.add(block)
            keeper.keep(block)
        self._kept_inserts = keeper if keeper.complete else None
        return meter.integrated_lufs

    def _tracked(self) -> Iterator[FloatArray]:
        """The stem through its own effects: kept from pass 1, or computed again."""
        if self._kept_track is not None:
            return self._kept_track.blocks(BLOCK_FRAMES)
        return self._track()

    def _track(self) -> Iterator[FloatArray]:
        channels = self.source.channels
        blocks = fixed_blocks(self.source.blocks(), channels, self.num_frames, BLOCK_FRAMES)
        if not self.chain:
            return blocks
        return _through(build_pedalboard(self.chain, self.sample_rate), blocks, self)

    def _inserts(self) -> Iterator[FloatArray]:
        pre = np.float32(db_to_amplitude(self._pre_db))
        staged = (block * pre for block in self._tracked())
        if not self.role.chain:
            return staged
        return _through(build_pedalboard(self.role.chain, self.sample_rate), staged, self)


@dataclass(frozen=True, slots=True)
class BusFigures:
    """The finished mix: loudness (LUFS), true peak (dBTP), bus gain (dB); ``-inf``: silent."""

    integrated_lufs: float
    true_peak_dbtp: float
    bus_gain_db: float


def bus_pass(
    stems: Sequence[StemPass], preset: MixPreset, sample_rate: int, num_frames: int
) -> tuple[SpillBuffer, float]:
    """Pass 3: the summed bus, kept as (frames, 2) rows, and its loudness (LUFS)."""
    bus = SpillBuffer(2)
    meter = LoudnessMeter(sample_rate, 2, _LOUDNESS)
    sends = [stem.role.reverb_send_db for stem in stems]
    reverb = None
    if any(send is not None for send in sends):
        reverb = BoardStream(build_pedalboard([preset.reverb], sample_rate), sample_rate, 2)
    send_gains = [None if send is None else np.float32(db_to_amplitude(send)) for send in sends]
    dry = _Queue()
    # With every stem muted, the bus is silence of the mix's length.
    silence = fixed_blocks(iter(()), 2, num_frames, BLOCK_FRAMES)
    streams = [stem.panned() for stem in stems] or [silence]
    send_gains = send_gains or [None]

    def keep(block: FloatArray) -> None:
        meter.add(block)
        bus.append(block.T)

    for blocks in zip(*streams, strict=True):
        mixed = np.zeros_like(blocks[0])
        sent = np.zeros_like(mixed)
        for panned, gain in zip(blocks, send_gains, strict=True):
            mixed += panned
            if gain is not None:
                sent += panned * gain
        if reverb is None:
            keep(mixed)
            continue
        dry.put(mixed)
        wet = reverb.push(sent)
        if wet.shape[1]:
            keep(dry.take(wet.shape[1]) + wet)
    if reverb is not None:
        wet = reverb.finish()
        if wet.shape[1]:
            keep(dry.take(wet.shape[1]) + wet)
    return bus, meter.integrated_lufs


def finish_bus(
    bus: SpillBuffer,
    summed_lufs: float,
    preset: MixPreset,
    bus_chain: Sequence[EffectSpec],
    sample_rate: int,
    ceiling_dbtp: float,
    sink: AudioSink,
) -> BusFigures:
    """Pass 4: gain, glue and the true peak; then trimmed under the ceiling, metered, written."""
    if not math.isfinite(summed_lufs):
        sink.begin()
        meter = LoudnessMeter(sample_rate, 2, _LOUDNESS)
        for rows in bus.chunks():
            block = np.ascontiguousarray(rows.T)
            meter.add(block)
            sink.write(block)
        sink.end()
        return BusFigures(-math.inf, -math.inf, 0.0)
    bus_gain_db = preset.mix_lufs - summed_lufs
    gain = np.float32(db_to_amplitude(bus_gain_db))
    peaks = TruePeakMeter(sample_rate, 2)
    for block in _glued(bus, gain, bus_chain, sample_rate):
        peaks.add(block)
    true_peak = peaks.finish()
    ceiling = db_to_amplitude(ceiling_dbtp)
    trim = None
    if true_peak > ceiling:
        trim = ceiling / true_peak * (1.0 - 1e-5)
        true_peak *= trim
        bus_gain_db += amplitude_to_db(trim)
    meter = LoudnessMeter(sample_rate, 2, _LOUDNESS)
    sink.begin()
    for glued in _glued(bus, gain, bus_chain, sample_rate):
        block = glued if trim is None else glued * np.float32(trim)
        meter.add(block)
        sink.write(block)
    sink.end()
    return BusFigures(meter.integrated_lufs, amplitude_to_db(true_peak), bus_gain_db)


def _glued(
    bus: SpillBuffer, gain: np.float32, bus_chain: Sequence[EffectSpec], sample_rate: int
) -> Iterator[FloatArray]:
    """The kept bus times ``gain``, through the glue chain (fresh on every call)."""
    board = (
        BoardStream(build_pedalboard(bus_chain, sample_rate), sample_rate, 2) if bus_chain else None
    )
    for rows in bus.chunks():
        block = np.ascontiguousarray(rows.T) * gain
        if board is None:
            yield block
            continue
        out = board.push(block)
        if out.shape[1]:
            yield out
    if board is not None:
        out = board.finish()
        if out.shape[1]:
            yield out


def _through(board: object, blocks: Iterator[FloatArray], stem: StemPass) -> Iterator[FloatArray]:
    """``blocks`` through ``board``, re-cut to the stem's blocks and length."""
    stream = BoardStream(board, stem.sample_rate, stem.source.channels)

    def processed() -> Iterator[FloatArray]:
        for block in blocks:
            yield stream.push(block)
        yield stream.finish()

    return fixed_blocks(processed(), stem.source.channels, stem.num_frames, BLOCK_FRAMES)


def _loudness(blocks: Iterator[FloatArray], sample_rate: int, channels: int) -> float:
    meter = LoudnessMeter(sample_rate, channels, _LOUDNESS)
    for block in blocks:
        meter.add(block)
    return meter.integrated_lufs


class _Queue:
    """Frames waiting for their reverb return (the reverb may hold some back)."""

    def __init__(self) -> None:
        self._blocks: list[FloatArray] = []

    def put(self, block: FloatArray) -> None:
        self._blocks.append(block)

    def take(self, count: int) -> FloatArray:
        data = np.concatenate(self._blocks, axis=1) if len(self._blocks) > 1 else self._blocks[0]
        self._blocks = [data[:, count:]] if data.shape[1] > count else []
        return data[:, :count]
