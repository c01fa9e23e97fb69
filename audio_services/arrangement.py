"""The song as arranged: each track's clips placed sample-accurately, with their gain,
fades and loops, and the track's volume and pan automation.

:class:`ArrangedSource` is a track as a :class:`~audio_services.sources.BlockSource`:
silence, then each clip's region of its asset (from ``offset_s``, ``duration_s``
long, ``loop_count`` times back to back) from ``start_s``, faded in and out over the
whole played length, overlapping clips summed. It streams: every clip reads its
asset block by block when the song reaches it, so memory is a block per playing
clip, whatever the song's length.

:func:`lane_values` evaluates an automation lane (breakpoints with linear, hold or
smooth segments) at many times at once; the mixer applies volume and pan lanes to
each block after the track's effects.

Times in seconds become samples by rounding ``t * sample_rate`` to the nearest
sample, for every clip and lane alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jacameno.audio_services.errors import AudioLimitError
from jacameno.audio_services.sources import BLOCK_FRAMES, BlockSource, FloatArray

__all__ = [
    "ArrangedSource",
    "LanePoint",
    "Placement",
    "automation_gains",
    "fade_shape",
    "lane_points",
    "lane_values",
    "to_stereo",
]

#: ``(time_s, value, curve)``: a breakpoint of an automation lane.
LanePoint = tuple[float, float, str]
#: ``gains(first, count)``: left and right gains of frames ``first .. first + count - 1``.
GainCurve = Callable[[int, int], tuple[FloatArray, FloatArray]]

#: Fade and segment curve names (docs_model ``FadeCurve`` and ``AutomationCurve``).
FADE_CURVES = ("linear", "equal_power", "exponential")
LANE_CURVES = ("linear", "hold", "smooth")
#: Most clips one track may hold in a render.
MAX_CLIPS = 10_000


def fade_shape(curve: str, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Gain (0 to 1) of a fade-in at ``x`` (0 to 1 through the fade); a fade-out is the
    same curve read backwards."""
    x = np.clip(x, 0.0, 1.0)
    if curve == "equal_power":
        return np.sin(x * (math.pi / 2.0))
    if curve == "exponential":
        return x * x
    return x


@dataclass(frozen=True, slots=True)
class Placement:
    """One clip in samples at the render's rate; ``source`` is its asset at that rate."""

    source: BlockSource
    start: int
    offset: int
    length: int
    loops: int = 1
    gain: float = 1.0
    fade_in: int = 0
    fade_out: int = 0
    fade_in_curve: str = "linear"
    fade_out_curve: str = "linear"

    @property
    def total(self) -> int:
        """Samples the clip plays (its region times its loops)."""
        return self.length * self.loops

    @property
    def end(self) -> int:
        return self.start + self.total

    @classmethod
    def of_clip(cls, clip: Mapping[str, object], source: BlockSource) -> Placement:
        """A document clip (``start_s``, ``offset_s``, ``duration_s``, ``gain_db``, fades,
        ``loop_count``) over ``source``, at ``source``'s rate."""
        rate = source.sample_rate

        def samples(key: str) -> int:
            return max(0, round(_number(clip, key, 0.0) * rate))

        fade_in_curve = str(clip.get("fade_in_curve") or "linear")
        fade_out_curve = str(clip.get("fade_out_curve") or "linear")
        return cls(
            source=source,
            start=samples("start_s"),
            offset=samples("offset_s"),
            length=samples("duration_s"),
            loops=max(1, int(_number(clip, "loop_count", 1.0))),
            gain=10.0 ** (_number(clip, "gain_db", 0.0) / 20.0),
            fade_in=samples("fade_in_s"),
            fade_out=samples("fade_out_s"),
            fade_in_curve=fade_in_curve if fade_in_curve in FADE_CURVES else "linear",
            fade_out_curve=fade_out_curve if fade_out_curve in FADE_CURVES else "linear",
        )

    def envelope(self, first: int, count: int) -> float | npt.NDArray[np.float32]:
        """Gain of played samples ``first .. first + count - 1`` (clip gain and fades): a
        number where no fade reaches, else one gain per sample."""
        fade_in_end = self.fade_in
        fade_out_start = self.total - self.fade_out
        in_fade_in = self.fade_in > 0 and first < fade_in_end
        in_fade_out = self.fade_out > 0 and first + count > fade_out_start
        if not (in_fade_in or in_fade_out):
            return self.gain
        gain = np.full(count, self.gain, dtype=np.float64)
        if in_fade_in:
            stop = min(count, fade_in_end - first)
            position = np.arange(first, first + stop, dtype=np.float64)
            gain[:stop] *= fade_shape(self.fade_in_curve, position / self.fade_in)
        if in_fade_out:
            start = max(0, fade_out_start - first)
            position = np.arange(first + start, first + count, dtype=np.float64)
            gain[start:] *= fade_shape(self.fade_out_curve, (self.total - position) / self.fade_out)
        return gain.astype(np.float32)


def _number(values: Mapping[str, object], key: str, default: float) -> float:
    value = values.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return float(value)


class _Region:
    """Reads a placement's played samples in order: its region, loop after loop."""

    def __init__(self, placement: Placement, channels: int) -> None:
        self.placement = placement
        self.channels = channels
        self.played = 0
        self._blocks: Iterator[FloatArray] | None = None
        self._pending = np.zeros((channels, 0), np.float32)
        self._in_loop = 0  # samples of the current loop handed out

    def read(self, count: int) -> FloatArray:
        """The next ``count`` played samples, gain and fades applied."""
        out = np.zeros((self.channels, count), np.float32)
        filled = 0
        length = self.placement.length
        while filled < count:
            if self._blocks is None or self._in_loop == length:
                self._start_loop()
            take = min(count - filled, length - self._in_loop)
            chunk = self._take(take)
            out[:, filled : filled + chunk.shape[1]] = chunk
            filled += take  # past the asset's end: silence
            self._in_loop += take
        gain = self.placement.envelope(self.played, count)
        self.played += count
        out *= np.float32(gain) if isinstance(gain, float) else gain
        return out

    def _start_loop(self) -> None:
        self._blocks = self.placement.source.blocks(BLOCK_FRAMES)
        self._pending = np.zeros((self.channels, 0), np.float32)
        self._in_loop = 0
        skip = self.placement.offset
        while skip > 0:
            block = next(self._blocks, None)
            if block is None:
                return
            if block.shape[1] > skip:
                self._pending = self._fit(block[:, skip:])
                return
            skip -= block.shape[1]

    def _take(self, count: int) -> FloatArray:
        """Up to ``count`` samples of the asset (fewer only at its end)."""
        parts = [self._pending]
        have = self._pending.shape[1]
        while have < count and self._blocks is not None:
            block = next(self._blocks, None)
            if block is None:
                break
            parts.append(self._fit(block))
            have += block.shape[1]
        joined = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        self._pending = joined[:, count:]
        return joined[:, :count]

    def _fit(self, block: FloatArray) -> FloatArray:
        """``block`` with the track's channel count (mono spread, stereo averaged)."""
        if block.shape[0] == self.channels:
            return block
        if block.shape[0] == 1:
            return np.repeat(block, self.channels, axis=0)
        mono: FloatArray = np.mean(block, axis=0, keepdims=True, dtype=np.float32)
        return mono


class ArrangedSource:
    """A track's clips as one block source (see the module doc); ``channels`` is the
    widest clip's (mono or stereo)."""

    #: ``frames_hint`` is exact: the end of the last clip.
    frames_exact = True

    def __init__(self, placements: Sequence[Placement], sample_rate: int) -> None:
        if len(placements) > MAX_CLIPS:
            raise AudioLimitError(f"a track renders at most {MAX_CLIPS} clips")
        for placement in placements:
            if placement.source.sample_rate != sample_rate:
                raise AudioLimitError("every clip must be resampled to the render's rate")
            if placement.source.channels > 2:
                raise AudioLimitError(
                    "clips are mono or stereo (bounce surround audio to stereo first)"
                )
        self.placements = sorted(
            (p for p in placements if p.total > 0), key=lambda p: (p.start, p.end)
        )
        self._sample_rate = sample_rate
        self._channels = max((p.source.channels for p in self.placements), default=1)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def frames_hint(self) -> int:
        return max((p.end for p in self.placements), default=0)

    def blocks(self, block_frames: int = BLOCK_FRAMES) -> Iterator[FloatArray]:
        total = self.frames_hint
        upcoming = list(self.placements)
        playing: list[_Region] = []
        for first in range(0, total, block_frames):
            stop = min(first + block_frames, total)
            while upcoming and upcoming[0].start < stop:
                playing.append(_Region(upcoming.pop(0), self._channels))
            block = np.zeros((self._channels, stop - first), np.float32)
            for region in playing:
                placement = region.placement
                begin = max(first, placement.start + region.played)
                end = min(stop, placement.end)
                if end > begin:
                    block[:, begin - first : end - first] += region.read(end - begin)
            playing = [r for r in playing if r.placement.start + r.played < r.placement.end]
            yield block


def lane_points(raw: object) -> tuple[LanePoint, ...]:
    """A lane's points from the document's JSON (unreadable points skipped), in time order."""
    points = []
    for point in raw if isinstance(raw, list | tuple) else ():
        if not isinstance(point, Mapping):
            continue
        time_s, value = point.get("time_s"), point.get("value")
        if not (
            isinstance(time_s, int | float)
            and isinstance(value, int | float)
            and math.isfinite(time_s)
            and math.isfinite(value)
        ):
            continue
        curve = str(point.get("curve") or "linear")
        points.append((float(time_s), float(value), curve if curve in LANE_CURVES else "linear"))
    return tuple(sorted(points, key=lambda point: point[0]))


#: Automation is evaluated every this many samples and interpolated between (0.7 ms
#: at 44.1 kHz: finer than any fader move, and 30x cheaper than every sample).
CONTROL_FRAMES = 32


def automation_gains(
    volume_lane: Sequence[LanePoint],
    pan_lane: Sequence[LanePoint],
    *,
    volume_db: float,
    pan: float,
    channels: int,
    sample_rate: int,
) -> GainCurve | None:
    """Per-sample stereo gains of a track's lanes, after its effects (None without any).

    A lane with points sets the volume (dB, at most +24) or pan (-1 to 1) in place of
    the fixed ``volume_db`` or ``pan``; the pan law is the mixer's (constant power; a
    stereo track's as a balance, unity in the centre). The gains are computed every
    :data:`CONTROL_FRAMES` samples and interpolated linearly in between.
    """
    if not volume_lane and not pan_lane:
        return None
    balance = math.sqrt(2.0) if channels == 2 else 1.0
    volume = _Lane(volume_lane) if volume_lane else None
    panning = _Lane(pan_lane) if pan_lane else None

    def at(frames: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
        times_s = frames / sample_rate
        level_db = volume.values(times_s) if volume else np.full(len(frames), volume_db)
        position = np.clip(panning.values(times_s), -1.0, 1.0) if panning else None
        if position is None:
            position = np.full(len(frames), pan)
        angle = (position + 1.0) * (math.pi / 4.0)
        left = np.where(position < 1.0, np.cos(angle), 0.0)
        right = np.where(position > -1.0, np.sin(angle), 0.0)
        scale = 10.0 ** (np.minimum(level_db, 24.0) / 20.0) * balance
        return scale * left, scale * right

    def gains(first: int, count: int) -> tuple[FloatArray, FloatArray]:
        control = np.arange(0, count + CONTROL_FRAMES, CONTROL_FRAMES, dtype=np.float64)
        control[-1] = min(control[-1], count - 1)
        left, right = at(first + control)
        frames = np.arange(count, dtype=np.float64)
        return (
            np.interp(frames, control, left).astype(np.float32),
            np.interp(frames, control, right).astype(np.float32),
        )

    return gains


def to_stereo(
    blocks: Iterable[FloatArray], left: float, right: float, gains: GainCurve | None
) -> Iterator[FloatArray]:
    """Mono or stereo ``blocks`` as stereo blocks: times the fixed ``left``/``right``
    gains, or the per-sample ``gains`` of the automation when there are lanes."""
    fixed_left, fixed_right = np.float32(left), np.float32(right)
    first = 0
    for block in blocks:
        out = np.empty((2, block.shape[1]), np.float32)
        if gains is not None:
            left_curve, right_curve = gains(first, block.shape[1])
            np.multiply(block[0], left_curve, out=out[0])
            np.multiply(block[-1], right_curve, out=out[1])
        else:
            np.multiply(block[0], fixed_left, out=out[0])
            np.multiply(block[-1], fixed_right, out=out[1])
        first += block.shape[1]
        yield out


class _Lane:
    """A lane's points as arrays, for evaluating it at many times at once."""

    _CURVES = {"linear": 0, "hold": 1, "smooth": 2}

    def __init__(self, points: Sequence[LanePoint]) -> None:
        if not points:
            raise ValueError("a lane without points has no value")
        self.at = np.array([p[0] for p in points], dtype=np.float64)
        self.points = np.array([p[1] for p in points], dtype=np.float64)
        self.curves = np.array([self._CURVES.get(p[2], 0) for p in points], dtype=np.int8)

    def values(self, times_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        last = len(self.at) - 1
        index = np.clip(np.searchsorted(self.at, times_s, side="right") - 1, 0, last)
        following = np.minimum(index + 1, last)
        span = self.at[following] - self.at[index]
        safe = np.where(span > 0, span, 1.0)
        fraction = np.clip(np.where(span > 0, (times_s - self.at[index]) / safe, 0.0), 0.0, 1.0)
        curve = self.curves[index]
        fraction = np.where(curve == 1, 0.0, fraction)
        fraction = np.where(curve == 2, (1.0 - np.cos(np.pi * fraction)) / 2.0, fraction)
        start = self.points[index]
        result = start + (self.points[following] - start) * fraction
        held: npt.NDArray[np.float64] = np.where(times_s < self.at[0], self.points[0], result)
        return held


def lane_values(
    points: Sequence[LanePoint], times_s: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """An automation lane's values at ``times_s``.

    ``points`` are ``(time_s, value, curve)`` in time order; before the first point
    its value holds, after the last the last's; between two points the earlier
    point's curve shapes the way (``linear``, ``hold`` or ``smooth``, a cosine ease).
    """
    return _Lane(points).values(times_s)
