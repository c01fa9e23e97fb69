"""Unit conversions between the document and DAWproject 1.0.

The document keeps gains in dB, pan from -1 (left) to 1 (right) and times in seconds;
DAWproject channels hold volume as a linear gain factor (``unit="linear"``, 1.0 is
0 dB, as Bitwig Studio writes it) and pan normalized from 0 (left) to 1 (right), and
timelines count ``beats`` or ``seconds``.
"""

from __future__ import annotations

import math
import re

from .errors import DawProjectError

__all__ = [
    "MAX_VOLUME_DB",
    "MIN_VOLUME_DB",
    "TIME_UNITS",
    "db_to_linear",
    "linear_to_db",
    "normalized_to_pan",
    "pan_to_normalized",
    "seconds_per",
    "xml_number",
    "xml_text",
]

#: The quietest volume an import writes: a linear 0 (silence) or ``-inf`` dB becomes this.
MIN_VOLUME_DB = -120.0
#: The loudest volume an import writes (the document's automation lanes stop there too).
MAX_VOLUME_DB = 24.0
#: DAWproject's time units; a timeline that names none counts beats (Reference, Timeline).
TIME_UNITS = ("beats", "seconds")

# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def db_to_linear(gain_db: float) -> float:
    """A gain in dB as a linear amplitude factor."""
    return math.pow(10.0, gain_db / 20.0)


def linear_to_db(gain: float) -> float:
    """A linear amplitude factor as dB, at least `MIN_VOLUME_DB` (0 is silence)."""
    if not gain > db_to_linear(MIN_VOLUME_DB):
        return MIN_VOLUME_DB
    return 20.0 * math.log10(gain)


def pan_to_normalized(pan: float) -> float:
    """The document's pan (-1 .. 1) as DAWproject's normalized pan (0 .. 1, centre 0.5)."""
    return (pan + 1.0) / 2.0


def normalized_to_pan(value: float) -> float:
    """A normalized pan (0 .. 1) as the document's (-1 .. 1), clamped."""
    return min(1.0, max(-1.0, value * 2.0 - 1.0))


def seconds_per(unit: str, bpm: float) -> float:
    """Seconds in one ``unit`` (``beats`` at ``bpm``, or ``seconds``)."""
    return 1.0 if unit == "seconds" else 60.0 / bpm


def xml_number(value: float) -> str:
    """A finite number as XML text that reads back to the same float (``repr``)."""
    number = float(value)
    if not math.isfinite(number):
        raise DawProjectError(f"cannot write {number!r}: the document holds a non-finite number")
    return repr(number)


def xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)
