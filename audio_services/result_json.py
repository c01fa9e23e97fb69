"""Turning result dataclasses into the JSON-like values a project document holds.

Results are written into a Yjs document, where every number is a float and
``-inf`` or NaN cannot be represented: ints become floats, non-finite floats
become ``None``, tuples and numpy arrays become lists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["JsonObject", "JsonValue", "json_object", "json_ready"]

JsonValue = None | bool | float | str | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]


def json_object(value: Mapping[str, Any]) -> JsonObject:
    """A mapping (typically ``dataclasses.asdict(result)``) as a document-safe JSON object."""
    return {str(key): json_ready(item) for key, item in value.items()}


def json_ready(value: Any) -> JsonValue:
    """``value`` (nested dicts, sequences, numbers, numpy values) as document-safe JSON."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [json_ready(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not a JSON-like result value")
