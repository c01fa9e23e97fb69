"""`validate()`: report every shape in a document that this schema does not expect.

It only reads, and it never raises on what a peer wrote: a peer can put anything
anywhere, and the views already skip or repair it; this is how to find out what.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from pycrdt import Array, Doc, Map

from .base import DocumentBase, roots_of
from .fields import MAX_JSON_DEPTH, MISSING, FieldType, describe, entries
from .records import Container, RootKind, failed_rules, record_spec
from .roots import Roots
from .schema import COACHING, CURRENT_SCHEMA_VERSION, META, ROOTS, TRACKS, Problem
from .views import META_FIELDS, read_track

__all__ = ["validate"]


def validate(doc: Doc[Any] | DocumentBase) -> list[Problem]:
    """Every problem found, each with a dotted `path` (e.g. ``tracks.<id>.pan``).

    An empty list means every reader sees the document exactly as it is stored.
    """
    roots = roots_of(doc)
    report = _Report()
    with roots.doc.transaction():
        for root in ROOTS:
            foreign = roots.foreign_content(root.name)
            if foreign is not None:
                report.add(root.name, foreign)
        for root in ROOTS:
            raw = getattr(roots, root.name)
            if root.kind is RootKind.RECORD:
                assert root.view is not None
                report.fields(root.name, entries(raw) or {}, root.view)
            elif root.kind is RootKind.KEYED:
                assert root.view is not None
                for key, item in list(raw.items()):
                    report.record(f"{root.name}.{key}", item, root.view)
            elif root.kind is RootKind.LIST and not roots.comments_hold_text():
                assert root.view is not None
                for index, item in enumerate(list(raw)):
                    report.record(f"{root.name}.{index}", item, root.view)
            elif root.kind is RootKind.JSON:
                for key, value in (entries(raw) or {}).items():
                    report.json(f"{root.name}.{key}", value)
        _check_schema_version(report, roots)
        _check_coached_tracks(report, roots)
        _check_clip_overlaps(report, roots)
    return report.problems


class _Report:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def record(self, path: str, raw: object, view: type[Any]) -> None:
        """Check a record stored as a Map (the only shape peers should write)."""
        if not isinstance(raw, Map):
            self.add(path, f"must be a Map, got {describe(raw)}")
            return
        self.fields(path, entries(raw) or {}, view)

    def fields(self, path: str, fields: dict[str, object], view: type[Any]) -> None:
        """Check the fields of a record against its declaration, then its nested records
        and the rules across its fields."""
        declared = record_spec(view)
        for name, spec in declared.fields.items():
            value = fields.get(name, MISSING)
            problem = spec.problem(value)
            if problem is not None:
                self.add(f"{path}.{name}", problem)
            elif spec.type is FieldType.OBJECT and value is not MISSING:
                self.json(f"{path}.{name}", value)
        for name, nested in declared.nested.items():
            value = fields.get(name, MISSING)
            if nested.container is Container.MAP and isinstance(value, Map):
                for key, item in list(value.items()):
                    self.record(f"{path}.{name}.{key}", item, nested.view)
            elif nested.container is Container.ARRAY and isinstance(value, Array):
                for index, item in enumerate(list(value)):
                    self.record(f"{path}.{name}.{index}", item, nested.view)
            elif value is not MISSING:
                expected = nested.container.value
                self.add(f"{path}.{name}", f"must be {expected}, got {describe(value)}")
        if declared.rules:
            # On the values as read: a field wrong on its own is reported above already.
            values = {name: spec.read(fields) for name, spec in declared.fields.items()}
            for rule in failed_rules(declared, values):
                self.add(f"{path}.{rule.field}", rule.message)

    def json(self, path: str, value: object, depth: int = 0) -> None:
        """Report what plain JSON cannot carry inside a free-form value."""
        if depth > MAX_JSON_DEPTH:
            self.add(path, f"is nested deeper than {MAX_JSON_DEPTH} levels")
        elif isinstance(value, float) and not math.isfinite(value):
            self.add(path, f"must be a finite number, got {value!r}")
        elif isinstance(value, Map | dict):
            for key, item in (entries(value) or {}).items():
                self.json(f"{path}.{key}", item, depth + 1)
        elif isinstance(value, Array | list):
            for index, item in enumerate(list(value)):
                self.json(f"{path}.{index}", item, depth + 1)
        elif isinstance(value, Doc):
            self.add(path, "must be plain JSON, got a subdocument")


def _check_schema_version(report: _Report, roots: Roots) -> None:
    version = roots.meta.get("schema_version", MISSING)
    if version is MISSING:
        report.add(f"{META}.schema_version", "is missing; run migrate()")
    elif META_FIELDS["schema_version"].problem(version) is None:
        assert isinstance(version, int | float)
        if version > CURRENT_SCHEMA_VERSION:
            report.add(
                f"{META}.schema_version",
                f"is {version:g}, newer than the {CURRENT_SCHEMA_VERSION} this code supports",
            )


def _check_coached_tracks(report: _Report, roots: Roots) -> None:
    for track_id, raw in list(roots.coaching.items()):
        if isinstance(raw, Map) and track_id not in roots.tracks:
            report.add(f"{COACHING}.{track_id}", "is about a track that does not exist")


def _check_clip_overlaps(report: _Report, roots: Roots) -> None:
    """Clips of one track that play at the same time (a renderer sums them)."""
    for track_id, raw in list(roots.tracks.items()):
        track = read_track(track_id, raw)
        if track is None:
            continue
        for before, after in pairwise(track.clips):
            if after.start_s < before.end_s - 1e-9:
                report.add(
                    f"{TRACKS}.{track_id}.clips.{after.id}",
                    f"overlaps clip {before.id} (which plays until {before.end_s:g} s)",
                )
