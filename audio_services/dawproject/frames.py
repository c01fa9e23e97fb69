"""A timeline as heard in the song (`Frame`), and attribute numbers as DAWproject
writes them (`number`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from xml.etree import ElementTree as ET

from .units import TIME_UNITS, seconds_per

__all__ = ["Frame", "number"]


def number(element: ET.Element, name: str) -> float | None:
    """The attribute ``name`` as a finite float (None when absent or not a number)."""
    text = element.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class Frame:
    """A timeline as heard: its time ``t`` (in ``unit``) sounds at ``origin_s + t *
    speed`` song seconds, only within ``lo_s .. hi_s``, ``gain_db`` louder."""

    unit: str
    origin_s: float
    speed: float
    lo_s: float
    hi_s: float
    gain_db: float = 0.0

    def at(self, time: float) -> float:
        return self.origin_s + time * self.speed

    def in_unit(self, unit: str, bpm: float) -> Frame:
        """The same timeline counted in ``unit`` (beats and seconds run in real time)."""
        if unit == self.unit or unit not in TIME_UNITS:
            return self
        scale = seconds_per(unit, bpm) / seconds_per(self.unit, bpm)
        return replace(self, unit=unit, speed=self.speed * scale)
