"""`to_json()`: the whole document as plain JSON, for REST and GraphQL reads."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from pycrdt import Doc

from .base import DocumentBase, roots_of
from .fields import entries, items_of, plain_json
from .records import Root, RootKind, read_record, read_root_record, record_spec
from .roots import Roots
from .schema import ROOTS, JSONValue

__all__ = ["to_json"]


def _plain(value: object) -> JSONValue:
    """A view (or a tuple of them) as plain JSON: dataclasses become dicts, enums their
    values, tuples lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"not a view value: {type(value).__name__}")  # a bug in this package


def to_json(doc: Doc[Any] | DocumentBase) -> dict[str, JSONValue]:
    """The document as JSON-serialisable data (``json.dumps(..., allow_nan=False)`` works).

    Layout: ``schema_version``, then each root of `schema.ROOTS` in order: ``meta``,
    ``tracks`` (a list in display order, each with its ``id``, ``clips`` sorted by start
    and ``effects`` in chain order), ``lyrics`` (a string), ``lyrics_meta``, ``mix``,
    ``jobs`` (a list, oldest first, each with its ``id``), ``coaching`` (an object keyed
    by track id) and ``comments`` (a list). Each record has exactly its view's fields.
    Wrong shapes are skipped or repaired exactly as the typed reads do; `validate()`
    lists them.
    """
    roots = roots_of(doc)
    with roots.doc.transaction():
        view: dict[str, JSONValue] = {}
        for root in ROOTS:
            view[root.name] = _root_json(root, roots)
        meta = view.get("meta")
        assert isinstance(meta, dict)
        return {"schema_version": meta["schema_version"], **view}


def _root_json(root: Root, roots: Roots) -> JSONValue:
    raw = getattr(roots, root.name)
    if root.kind is RootKind.TEXT:
        return str(raw)
    if root.kind is RootKind.JSON:
        return {key: plain_json(value) for key, value in (entries(raw) or {}).items()}
    assert root.view is not None
    if root.kind is RootKind.RECORD:
        return _plain(read_root_record(root.view, raw))
    if root.kind is RootKind.LIST:
        items = [] if roots.comments_hold_text() else items_of(raw)
        views = (read_record(root.view, item) for item in items)
        return _plain([view for view in views if view is not None])
    (key,) = record_spec(root.view).keys
    keyed = (
        (item_id, read_record(root.view, item, **{key: item_id}))
        for item_id, item in list(raw.items())
    )
    found = [(item_id, view) for item_id, view in keyed if view is not None]
    if root.order is None:
        return {item_id: _plain(view) for item_id, view in found}
    return _plain(sorted((view for _, view in found), key=root.order))
