"""`meta.schema_version` and the forward migrations that bring a document to it.

`MIGRATIONS[n]` turns a version-`n` document into a version-`n + 1` one. A migration
only fills in what is missing, with values derived from the document alone, so it is
idempotent and two peers migrating the same state concurrently write the same values
(Map keys are last-writer-wins, so nothing duplicates). It never rebuilds content and
never creates a nested shared type where a peer might be creating one too: concurrent
inserts of two Maps under one key keep only one, and lose what was written into the
other. Readers treat a missing `clips`/`effects` as empty instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pycrdt import Doc, Map

from .base import DocumentBase, Origin, roots_of
from .errors import SchemaTooNewError, SchemaVersionError
from .fields import MISSING
from .ordering import generate_n_keys_between, is_valid_order_key
from .roots import Roots
from .schema import (
    CURRENT_SCHEMA_VERSION,
    DEFAULT_BPM,
    DEFAULT_TIME_SIGNATURE,
    DEFAULT_TITLE,
    TrackKind,
)
from .views import META_FIELDS

__all__ = ["MIGRATIONS", "Migration", "migrate", "schema_version"]

Migration = Callable[[Roots], None]


def _set_missing(target: Map[object], defaults: Mapping[str, object]) -> None:
    for key, value in defaults.items():
        if key not in target:
            target[key] = value


def _v0_to_v1(roots: Roots) -> None:
    """Version 0 is a document a bare client made: fill in meta and track defaults, and
    give tracks without an order key one after the ordered tracks, by id."""
    _set_missing(
        roots.meta,
        {
            "title": DEFAULT_TITLE,
            "bpm": DEFAULT_BPM,
            "key": None,
            "time_signature": DEFAULT_TIME_SIGNATURE,
        },
    )
    tracks = {track_id: raw for track_id, raw in roots.tracks.items() if isinstance(raw, Map)}
    track_defaults = {
        "name": "",
        "kind": TrackKind.AUDIO.value,
        "volume_db": 0.0,
        "pan": 0.0,
        "mute": False,
        "solo": False,
    }
    for raw in tracks.values():
        _set_missing(raw, track_defaults)
    unordered = sorted(track_id for track_id, raw in tracks.items() if "order" not in raw)
    if unordered:
        ordered = [raw.get("order") for raw in tracks.values()]
        last = max(
            (key for key in ordered if isinstance(key, str) and is_valid_order_key(key)),
            default=None,
        )
        keys = generate_n_keys_between(last, None, len(unordered))
        for track_id, key in zip(unordered, keys, strict=True):
            tracks[track_id]["order"] = key


MIGRATIONS: Mapping[int, Migration] = MappingProxyType({0: _v0_to_v1})
"""Migration from version n to n + 1, for every n below `CURRENT_SCHEMA_VERSION`."""


def schema_version(doc: Doc[Any] | DocumentBase) -> int:
    """The document's `meta.schema_version` (0 if absent).

    Raises `SchemaVersionError` if it is not a whole number >= 0, and `SchemaTooNewError`
    if it is newer than `CURRENT_SCHEMA_VERSION`.
    """
    value = roots_of(doc).meta.get("schema_version", MISSING)
    if value is MISSING:
        return 0
    problem = META_FIELDS["schema_version"].problem(value)
    if problem is not None or not isinstance(value, int | float):
        raise SchemaVersionError(f"meta.schema_version {problem or 'is unreadable'}")
    version = int(value)
    if version > CURRENT_SCHEMA_VERSION:
        raise SchemaTooNewError(version, CURRENT_SCHEMA_VERSION)
    return version


def migrate(doc: Doc[Any] | DocumentBase, *, origin: Origin = None) -> tuple[int, int]:
    """Bring the document to `CURRENT_SCHEMA_VERSION` in one transaction; returns
    ``(from_version, to_version)`` (equal when there was nothing to do)."""
    roots = roots_of(doc)
    with roots.doc.transaction(origin=origin):
        found = schema_version(doc)
        for version in range(found, CURRENT_SCHEMA_VERSION):
            MIGRATIONS[version](roots)
        if found != CURRENT_SCHEMA_VERSION:
            roots.meta["schema_version"] = float(CURRENT_SCHEMA_VERSION)
    return found, CURRENT_SCHEMA_VERSION
