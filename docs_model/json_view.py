"""`to_json()`: the whole document as plain JSON, for REST and GraphQL reads."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

from pycrdt import Doc

from .base import DocumentBase, roots_of
from .fields import entries, plain_json
from .schema import JSONValue
from .views import (
    items_of,
    read_coaching,
    read_comment,
    read_job,
    read_meta,
    read_mix,
    read_track,
    sort_tracks,
)

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

    Layout: ``schema_version``, ``meta``, ``tracks`` (a list in display order, each with
    its ``id``, ``clips`` sorted by start and ``effects`` in chain order), ``lyrics``
    (a string), ``lyrics_meta``, ``mix``, ``jobs`` (a list, oldest first, each with its
    ``id``), ``coaching`` (an object keyed by track id) and ``comments`` (a list). Wrong
    shapes are skipped or repaired exactly as the typed reads do; `validate()` lists them.
    """
    roots = roots_of(doc)
    with roots.doc.transaction():
        meta = read_meta(roots.meta)
        tracks = (read_track(track_id, raw) for track_id, raw in list(roots.tracks.items()))
        jobs = (read_job(job_id, raw) for job_id, raw in list(roots.jobs.items()))
        coaching = (read_coaching(tid, raw) for tid, raw in list(roots.coaching.items()))
        comments = [] if roots.comments_hold_text() else items_of(roots.comments)
        comment_views = (read_comment(raw) for raw in comments)
        return {
            "schema_version": meta.schema_version,
            "meta": _plain(meta),
            "tracks": _plain(sort_tracks([track for track in tracks if track is not None])),
            "lyrics": str(roots.lyrics),
            "lyrics_meta": {
                key: plain_json(value) for key, value in (entries(roots.lyrics_meta) or {}).items()
            },
            "mix": _plain(read_mix(roots.mix)),
            "jobs": _plain(
                sorted(
                    (job for job in jobs if job is not None),
                    key=lambda job: (job.created_at or 0.0, job.id),
                )
            ),
            "coaching": {view.track_id: _plain(view) for view in coaching if view is not None},
            "comments": _plain([view for view in comment_views if view is not None]),
        }
