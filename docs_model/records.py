"""Records declared once: each view dataclass carries the spec of every field it reads.

A record of the document (a track, a clip, a job, ...) is declared as its frozen view in
`schema.py`, each attribute annotated with what it is::

    @record()
    @dataclass(frozen=True)
    class ClipView:
        id: Annotated[str, KEY]  # its key in the parent Map, not stored in the record
        start_s: Annotated[float, spec(FieldType.NUMBER, required=True, minimum=0.0)]
        ...

    clips: Annotated[tuple[ClipView, ...], nested_map(ClipView, order=clip_order)]

Everything else derives from that one declaration: the `Field` tables (`fields_of`), the
lenient reader (`read_record`), argument checks of whole new records (`checked_entry`),
`validate()`, the JSON view and docs/schema.md. The spec rides in `typing.Annotated`
rather than ``dataclasses.field(metadata=...)`` so the views keep their plain dataclass
constructors (positional arguments, real defaults) and mypy still checks every call.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeVar

from .errors import InvalidValueError
from .fields import MISSING, Field, FieldType, JSONValue, checked_fields, entries, items_of

__all__ = [
    "KEY",
    "Container",
    "Key",
    "Nested",
    "RecordSpec",
    "Root",
    "RootKind",
    "Rule",
    "checked_entry",
    "failed_rules",
    "fields_of",
    "nested_list",
    "nested_map",
    "read_record",
    "read_root_record",
    "record",
    "record_spec",
    "spec",
]

V = TypeVar("V")

_SPEC_ATTRIBUTE = "__record_spec__"


@dataclass(frozen=True)
class Key:
    """Marks the id a record has in its parent Map: given to the reader, never stored."""


KEY: Final = Key()


class Container(Enum):
    MAP = "a Map"
    ARRAY = "an Array"


@dataclass(frozen=True)
class Nested:
    """A collection of `view` records stored under this field: a Map keyed by the
    records' ids, or an Array. `order` sorts the read views (None keeps stored order)."""

    view: type[Any]
    container: Container
    order: Callable[[Any], Any] | None = None


def nested_map(view: type[V], *, order: Callable[[V], Any] | None = None) -> Nested:
    """A Map of `view` records keyed by their `KEY` field."""
    return Nested(view, Container.MAP, order)


def nested_list(view: type[Any]) -> Nested:
    """An Array of `view` records, read in stored order."""
    return Nested(view, Container.ARRAY)


@dataclass(frozen=True)
class Rule:
    """A condition across fields of one record, on values each acceptable on its own.

    Where it does not hold, `field` reads as its default, `validate()` reports `message`
    at `field` and writers refuse the record.
    """

    field: str
    message: str
    holds: Callable[[Mapping[str, object]], bool]


def spec(
    field_type: FieldType,
    *,
    default: float | str | bool | Mapping[str, JSONValue] | None = None,
    required: bool = False,
    nullable: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    integer: bool = False,
    enum: type[StrEnum] | None = None,
    pattern: str | None = None,
    doc: str = "",
) -> Field:
    """The `Field` of a stored attribute; its name comes from the attribute. `pattern` is
    a regular expression the whole string must match."""
    return Field(
        name="",
        type=field_type,
        default=default,
        required=required,
        nullable=nullable,
        minimum=minimum,
        maximum=maximum,
        positive=positive,
        integer=integer,
        enum=enum,
        pattern=re.compile(pattern, re.DOTALL) if pattern is not None else None,
        doc=doc,
    )


@dataclass(frozen=True)
class RecordSpec:
    """What `@record` gathered from a view: its keys, stored fields, nested collections
    and rules, in declaration order."""

    view: type[Any]
    keys: tuple[str, ...]
    fields: Mapping[str, Field]
    nested: Mapping[str, Nested]
    rules: tuple[Rule, ...]
    #: Read records that lack required fields too (with defaults) instead of skipping them.
    keep_incomplete: bool

    @property
    def stored_keys(self) -> tuple[str, ...]:
        """Every key this record has in the document (its fields and collections)."""
        return (*self.fields, *self.nested)


def record(
    *, rules: tuple[Rule, ...] = (), keep_incomplete: bool = False
) -> Callable[[type[V]], type[V]]:
    """Declare a view dataclass as a document record (put it above ``@dataclass``).

    Every attribute must be annotated ``Annotated[T, spec(...)]``, ``Annotated[T, KEY]``
    or ``Annotated[tuple[X, ...], nested_map(X)]`` / ``nested_list(X)``; anything else
    fails here, at import, rather than being silently left out of reads or validation.
    """

    def declare(view: type[V]) -> type[V]:
        if not dataclasses.is_dataclass(view):
            raise TypeError(f"{view.__name__}: put @record() above @dataclass(frozen=True)")
        hints = typing.get_type_hints(view, include_extras=True)
        keys: list[str] = []
        fields: dict[str, Field] = {}
        nested: dict[str, Nested] = {}
        for attribute in dataclasses.fields(view):
            name = attribute.name
            markers = [
                marker
                for marker in getattr(hints[name], "__metadata__", ())
                if isinstance(marker, Field | Key | Nested)
            ]
            if len(markers) != 1:
                raise TypeError(
                    f"{view.__name__}.{name} needs exactly one of spec(...), KEY, "
                    "nested_map(...) or nested_list(...) in its Annotated[...] type"
                )
            marker = markers[0]
            if isinstance(marker, Key):
                keys.append(name)
            elif isinstance(marker, Nested):
                nested[name] = marker
            else:
                fields[name] = dataclasses.replace(marker, name=name)
        for rule in rules:
            if rule.field not in fields:
                raise TypeError(f"{view.__name__}: rule on unknown field {rule.field!r}")
        setattr(
            view,
            _SPEC_ATTRIBUTE,
            RecordSpec(
                view=view,
                keys=tuple(keys),
                fields=MappingProxyType(fields),
                nested=MappingProxyType(nested),
                rules=rules,
                keep_incomplete=keep_incomplete,
            ),
        )
        return view

    return declare


def record_spec(view: type[Any]) -> RecordSpec:
    """The declaration of a `@record` view."""
    found = view.__dict__.get(_SPEC_ATTRIBUTE)
    if not isinstance(found, RecordSpec):
        raise TypeError(f"{view.__name__} is not declared with @record()")
    return found


def fields_of(view: type[Any]) -> Mapping[str, Field]:
    """The stored scalar fields of a record by name (its ``*_FIELDS`` table)."""
    return record_spec(view).fields


def _usable(declared: RecordSpec, fields: Mapping[str, object]) -> bool:
    """Whether every required field is present and acceptable."""
    return all(
        spec.problem(fields.get(name, MISSING)) is None
        for name, spec in declared.fields.items()
        if spec.required
    )


def failed_rules(declared: RecordSpec, values: Mapping[str, object]) -> list[Rule]:
    """The rules that do not hold for `values` (as read, or as checked for writing)."""
    return [rule for rule in declared.rules if not rule.holds(values)]


def _read_fields(declared: RecordSpec, fields: Mapping[str, object]) -> dict[str, object]:
    values = {name: spec.read(fields) for name, spec in declared.fields.items()}
    for rule in failed_rules(declared, values):
        values[rule.field] = declared.fields[rule.field].read({})
    return values


def _read_nested(nested: Nested, raw: object) -> tuple[object, ...]:
    if nested.container is Container.MAP:
        (key,) = record_spec(nested.view).keys
        items = (entries(raw) or {}).items()
        read = [read_record(nested.view, item, **{key: item_id}) for item_id, item in items]
    else:
        read = [read_record(nested.view, item) for item in items_of(raw)]
    views = [view for view in read if view is not None]
    if nested.order is not None:
        views.sort(key=nested.order)
    return tuple(views)


def read_record(view: type[V], raw: object, **keys: str) -> V | None:
    """The `view` of a raw record (a Map, or a plain object a client wrote), with its
    `keys` (e.g. ``id=...``); None if it is not a record, or lacks a required field.

    Never raises on what a peer wrote: wrong fields read as their defaults, unreadable
    nested records are skipped.
    """
    fields = entries(raw)
    if fields is None:
        return None
    declared = record_spec(view)
    if not declared.keep_incomplete and not _usable(declared, fields):
        return None
    values = _read_fields(declared, fields)
    for name, nested in declared.nested.items():
        values[name] = _read_nested(nested, fields.get(name))
    build: Callable[..., V] = view
    return build(**keys, **values)


def read_root_record(view: type[V], raw: object) -> V:
    """The `view` of a record that is a whole root (`meta`, `mix`): never skipped, since
    such records have no required fields; a root that is not a Map reads as defaults."""
    found = read_record(view, raw) or read_record(view, {})
    if found is None:
        raise TypeError(f"{view.__name__} has required fields; it cannot be a root record")
    return found


def checked_entry(view: type[V], given: V | Mapping[str, object], what: str) -> dict[str, object]:
    """A whole new record of `view` from our callers (a view or a mapping), checked and
    made storable: absent optional fields take their defaults; rules must hold.

    Raises `InvalidValueError` with a message starting with `what` (e.g. ``notes[2]``).
    Nested collections are not part of the entry.
    """
    declared = record_spec(view)
    if isinstance(given, declared.view):
        given = {name: getattr(given, name) for name in declared.fields}
    assert isinstance(given, Mapping)
    values = {
        name: given.get(name, MISSING if spec.required else spec.default)
        for name, spec in declared.fields.items()
    }
    try:
        checked = checked_fields(values, declared.fields)
    except InvalidValueError as exc:
        raise InvalidValueError(f"{what}.{exc}") from None
    failed = failed_rules(declared, checked)
    if failed:
        raise InvalidValueError(f"{what}.{failed[0].field} {failed[0].message}")
    return checked


class RootKind(Enum):
    RECORD = "Map holding one record"
    KEYED = "Map of records by id"
    LIST = "Array of records"
    TEXT = "Text"
    JSON = "Map of free-form JSON values"


@dataclass(frozen=True)
class Root:
    """A root type of the document, and the record it holds (if any).

    `order` sorts the records of a keyed root, which the JSON view then lists (each with
    its id); without it the JSON view keeps them as an object keyed by id.
    """

    name: str
    kind: RootKind
    view: type[Any] | None = None
    doc: str = ""
    order: Callable[[Any], Any] | None = None
