"""Track automation: volume and pan lanes of breakpoints, and their value at any time.

A lane is an Array of points (``time_s``, ``value``, ``curve``) under the track, in
time order. While a lane has points it sets the track's volume (dB) or pan (-1 to 1)
for the whole song: before the first point the first value holds, after the last the
last; between two points the earlier point's ``curve`` shapes the way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from itertools import pairwise

from pycrdt import Array, Map

from .base import DocumentBase, Origin
from .errors import InvalidValueError
from .records import checked_entry
from .schema import AutomationCurve, AutomationPointView

__all__ = ["AutomationMixin", "Lane", "PointSpec", "value_at"]

#: Points one lane may hold.
MAX_POINTS = 10_000

PointSpec = AutomationPointView | Mapping[str, object]
"""A point to write: a view, or a mapping with ``time_s``, ``value`` and ``curve``."""


class Lane(StrEnum):
    VOLUME = "volume"
    PAN = "pan"

    @property
    def field(self) -> str:
        return f"{self.value}_automation"


def value_at(points: Sequence[AutomationPointView], time_s: float) -> float | None:
    """The lane's value at ``time_s`` (None for a lane without points).

    ``points`` must be in time order (as :meth:`AutomationMixin.set_automation` writes
    them and the track view reads them).
    """
    if not points:
        return None
    if time_s <= points[0].time_s:
        return points[0].value
    for before, after in pairwise(points):
        if time_s < after.time_s:
            span = after.time_s - before.time_s
            fraction = (time_s - before.time_s) / span if span > 0 else 1.0
            return _shaped(before.value, after.value, fraction, before.curve)
    return points[-1].value


def _shaped(start: float, end: float, fraction: float, curve: AutomationCurve) -> float:
    if curve is AutomationCurve.HOLD:
        return start
    if curve is AutomationCurve.SMOOTH:
        fraction = (1.0 - math.cos(math.pi * fraction)) / 2.0
    return start + (end - start) * fraction


class AutomationMixin(DocumentBase):
    def set_automation(
        self, track_id: str, lane: Lane | str, points: Sequence[PointSpec], *, origin: Origin = None
    ) -> None:
        """Make the track's ``lane`` exactly ``points`` (sorted by time; empty clears it).

        Volume values are dB (at most +24); pan values -1 to 1.
        """
        lane = Lane(lane)
        if len(points) > MAX_POINTS:
            raise InvalidValueError(f"an automation lane holds at most {MAX_POINTS} points")
        entries = []
        for index, point in enumerate(points):
            if isinstance(point, AutomationPointView):
                point = {"time_s": point.time_s, "value": point.value, "curve": point.curve}
            entry = checked_entry(AutomationPointView, point, f"{lane.field}[{index}]")
            value = entry["value"]
            assert isinstance(value, float)
            if lane is Lane.PAN and not -1.0 <= value <= 1.0:
                raise InvalidValueError(f"{lane.field}[{index}].value: pan must be -1 to 1")
            if lane is Lane.VOLUME and value > 24.0:
                raise InvalidValueError(f"{lane.field}[{index}].value: at most +24 dB")
            entries.append(entry)
        entries.sort(key=lambda entry: float(entry["time_s"]))  # type: ignore[arg-type]
        with self._transaction(origin):
            track = self._track_map(track_id)
            track[lane.field] = Array([Map(entry) for entry in entries])
