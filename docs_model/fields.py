"""Field specifications: one `Field` drives validation, lenient reads and argument checks.

Peers (browsers, bots, older or newer clients) can write anything into the document, so
every read goes through a `Field`: a wrong value is reported by `validate()`, replaced by
the field's default in views, and refused with `InvalidValueError` when our own callers
pass it. The fields of each record are declared once, on its view (`schema.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from .errors import InvalidValueError
from .ordering import is_valid_order_key

__all__ = [
    "EMPTY_OBJECT",
    "MAX_JSON_DEPTH",
    "MISSING",
    "UNSET",
    "Field",
    "FieldType",
    "JSONValue",
    "Unset",
    "checked_fields",
    "describe",
    "entries",
    "has_key",
    "is_storable_text",
    "items_of",
    "plain_json",
    "to_stored",
]


JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
"""A plain JSON value (finite numbers only)."""


class _Missing(Enum):
    MISSING = "MISSING"


MISSING: Final = _Missing.MISSING
"""Marks a key absent from a Map (as opposed to present with value None)."""


class Unset(Enum):
    """Type of `UNSET`, the default of update arguments that leave a field unchanged."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET

MAX_JSON_DEPTH = 32  # deeper JSON than this is junk; cut it rather than recurse without bound

EMPTY_OBJECT: Final[Mapping[str, JSONValue]] = MappingProxyType({})
"""The default of an object field that reads as ``{}`` (each read gets a fresh dict)."""


class FieldType(Enum):
    NUMBER = "a number"
    STRING = "a string"
    BOOL = "a boolean"
    ORDER_KEY = "a fractional-index key"
    OBJECT = "an object (Map)"


def describe(value: object) -> str:
    """A short name for the kind of a raw document value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Map):
        return "a Map"
    if isinstance(value, Array):
        return "an Array"
    if isinstance(value, Text):
        return "a Text"
    if isinstance(value, dict):
        return "a plain object"
    if isinstance(value, list):
        return "a plain list"
    if isinstance(value, Doc):
        return "a subdocument"
    return type(value).__name__


def is_storable_text(text: str) -> bool:
    """Whether pycrdt can store `text`: a lone surrogate (which JSON decoders and
    ``surrogateescape`` can produce) makes pycrdt panic instead of raising."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_key(target: Map[Any], key: object) -> bool:
    """``key in target`` that is False, rather than an error, for keys pycrdt cannot
    encode (ids from URLs and clients are not to be trusted)."""
    return isinstance(key, str) and is_storable_text(key) and key in target


def _finite_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


_EnumClass: TypeAlias = type[StrEnum]  # spelled here: inside `Field`, `type` is a field


@dataclass(frozen=True)
class Field:
    """One field of a Map record and what makes its value acceptable.

    `default` is what an absent, null or unacceptable value reads as; a `required` field
    must be present and acceptable (`validate()` reports it, and most records without it
    are skipped). `name` is filled in from the view the field is declared on.
    """

    name: str
    type: FieldType
    default: float | str | bool | Mapping[str, JSONValue] | None = None
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    integer: bool = False
    enum: _EnumClass | None = None
    pattern: re.Pattern[str] | None = None
    doc: str = ""  # what the name does not say, for docs/schema.md

    @property
    def choices(self) -> tuple[str, ...]:
        """The values an enum field accepts (empty for any other field)."""
        return tuple(member.value for member in self.enum) if self.enum is not None else ()

    def problem(self, value: object) -> str | None:
        """What is wrong with `value` (MISSING if absent), or None if it is acceptable."""
        if value is MISSING:
            return "is required" if self.required else None
        if value is None:
            return None if self.nullable else f"must be {self.type.value}, got null"
        if self.type is FieldType.NUMBER:
            return self._number_problem(value)
        if self.type is FieldType.BOOL:
            return None if isinstance(value, bool) else f"must be a boolean, got {describe(value)}"
        if self.type is FieldType.OBJECT:
            if isinstance(value, Map | dict):
                return None
            return f"must be an object (Map), got {describe(value)}"
        if not isinstance(value, str):
            return f"must be {self.type.value}, got {describe(value)}"
        if not is_storable_text(value):
            return "must be valid Unicode text (it holds a lone surrogate)"
        if self.type is FieldType.ORDER_KEY and not is_valid_order_key(value):
            return f"is not a valid fractional-index key: {value!r}"
        if self.enum is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, got {value!r}"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"is malformed: {value!r}"
        return None

    def _number_problem(self, value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {describe(value)}"
        number = _finite_number(value)
        if number is None:
            return f"must be a finite number, got {value!r}"
        if self.integer and not number.is_integer():
            return f"must be a whole number, got {number:g}"
        if self.positive and number <= 0:
            return f"must be > 0, got {number:g}"
        if self.minimum is not None and self.maximum is not None:
            if not self.minimum <= number <= self.maximum:
                return f"must be between {self.minimum:g} and {self.maximum:g}, got {number:g}"
        elif self.minimum is not None and number < self.minimum:
            return f"must be >= {self.minimum:g}, got {number:g}"
        elif self.maximum is not None and number > self.maximum:
            return f"must be <= {self.maximum:g}, got {number:g}"
        return None

    def require(self, value: object) -> None:
        """Raise `InvalidValueError` unless `value` is acceptable (for our own callers)."""
        problem = self.problem(value)
        if problem is not None:
            raise InvalidValueError(f"{self.name} {problem}")

    def read(self, fields: Mapping[str, object]) -> object:
        """The field's value in `fields` (a record's entries) for a view: an absent, null
        or unacceptable value reads as the default; numbers as floats (ints for `integer`
        fields), objects as plain JSON, enum fields as their enum."""
        value = fields.get(self.name, MISSING)
        if value is MISSING or value is None or self.problem(value) is not None:
            value = self.default
            if value is None or isinstance(value, Mapping):
                return None if value is None else dict(value)
        if self.type is FieldType.NUMBER:
            number = _finite_number(value)
            return int(number) if self.integer and number is not None else number
        if self.type is FieldType.OBJECT:
            return plain_json(value)
        if self.enum is not None and isinstance(value, str):
            return self.enum(value)
        return value


def entries(value: object) -> dict[str, object] | None:
    """The key/value pairs of a Map, or of a plain object a client wrote instead of one;
    None for anything else."""
    if isinstance(value, Map):
        return {key: value[key] for key in list(value.keys())}
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if isinstance(key, str)}
    return None


def items_of(value: object) -> list[object]:
    """The items of an Array (or of a plain list a client wrote instead); [] otherwise."""
    if isinstance(value, Array):
        return list(value)
    if isinstance(value, list):
        return value
    return []


def plain_json(value: object, depth: int = 0) -> JSONValue:
    """A JSON-serialisable copy of a raw document value; what JSON cannot hold (NaN,
    subdocuments, over-deep nesting) becomes None."""
    if depth > MAX_JSON_DEPTH:
        return None
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return _finite_number(value)
    if isinstance(value, Text | XmlText | XmlFragment | XmlElement):
        return str(value)
    if isinstance(value, Map | dict):
        return {k: plain_json(v, depth + 1) for k, v in (entries(value) or {}).items()}
    if isinstance(value, Array):
        return [plain_json(item, depth + 1) for item in list(value)]
    if isinstance(value, list | tuple):
        return [plain_json(item, depth + 1) for item in value]
    return None


def to_stored(value: object, what: str, depth: int = 0) -> JSONValue:
    """Check a JSON value from our callers and convert it for storage (numbers as floats,
    tuples as lists); raise `InvalidValueError` naming `what` on anything else."""
    if depth > MAX_JSON_DEPTH:
        raise InvalidValueError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str) and not is_storable_text(value):
        raise InvalidValueError(f"{what} must be valid Unicode text (it holds a lone surrogate)")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        number = _finite_number(value)
        if number is None:
            raise InvalidValueError(f"{what} must hold finite numbers only, got {value!r}")
        return number
    if isinstance(value, Mapping):
        stored: dict[str, JSONValue] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not is_storable_text(key):
                raise InvalidValueError(f"{what} keys must be valid strings, got {key!r}")
            stored[key] = to_stored(item, f"{what}.{key}", depth + 1)
        return stored
    if isinstance(value, list | tuple):
        return [to_stored(item, f"{what}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise InvalidValueError(f"{what} must be plain JSON, got {type(value).__name__}")


def checked_fields(values: Mapping[str, object], specs: Mapping[str, Field]) -> dict[str, object]:
    """`values` from our callers, UNSET ones dropped, each checked against its spec and
    made storable (numbers as floats, enums as plain strings, objects as plain JSON)."""
    checked: dict[str, object] = {}
    for name, value in values.items():
        if value is UNSET:
            continue
        spec = specs[name]
        if spec.type is FieldType.OBJECT and isinstance(value, Mapping):
            checked[name] = to_stored(value, name)
            continue
        spec.require(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            checked[name] = float(value)
        elif isinstance(value, str):
            checked[name] = str(value)  # a StrEnum member becomes its plain value
        else:
            checked[name] = value
    return checked
