"""`validate()`: report every shape in a document that this schema does not expect.

It only reads, and it never raises on what a peer wrote: a peer can put anything
anywhere, and the views already skip or repair it; this is how to find out what.
"""

from __future__ import annotations

import math
from typing import Any

from pycrdt import Array, Doc, Map

from .base import DocumentBase, roots_of
from .fields import MAX_JSON_DEPTH, MISSING, Field, FieldType, describe, entries
from .roots import Roots
from .schema import (
    COACHING,
    COMMENTS,
    CURRENT_SCHEMA_VERSION,
    JOBS,
    LYRICS,
    LYRICS_META,
    META,
    MIX,
    TRACKS,
    Problem,
)
from .views import (
    CLIP_FIELDS,
    COACHING_FIELDS,
    COMMENT_FIELDS,
    EFFECT_FIELDS,
    JOB_FIELDS,
    META_FIELDS,
    MIX_FIELDS,
    NOTE_FIELDS,
    TRACK_FIELDS,
)

__all__ = ["validate"]

_ALL_ROOTS = (META, TRACKS, LYRICS, LYRICS_META, MIX, JOBS, COACHING, COMMENTS)


def validate(doc: Doc[Any] | DocumentBase) -> list[Problem]:
    """Every problem found, each with a dotted `path` (e.g. ``tracks.<id>.pan``).

    An empty list means every reader sees the document exactly as it is stored.
    """
    roots = roots_of(doc)
    report = _Report()
    with roots.doc.transaction():
        for name in _ALL_ROOTS:
            foreign = roots.foreign_content(name)
            if foreign is not None:
                report.add(name, foreign)
        _check_meta(report, roots)
        _check_tracks(report, roots)
        report.fields(MIX, entries(roots.mix) or {}, MIX_FIELDS)
        for job_id, raw in list(roots.jobs.items()):
            report.record(f"{JOBS}.{job_id}", raw, JOB_FIELDS)
        _check_coaching(report, roots)
        if not roots.comments_hold_text():
            for index, raw in enumerate(list(roots.comments)):
                report.record(f"{COMMENTS}.{index}", raw, COMMENT_FIELDS)
        for key, value in (entries(roots.lyrics_meta) or {}).items():
            report.json(f"{LYRICS_META}.{key}", value)
    return report.problems


class _Report:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def record(self, path: str, raw: object, specs: dict[str, Field]) -> dict[str, object] | None:
        """Check a Map record; returns its fields, or None if it is not a Map."""
        if not isinstance(raw, Map):
            self.add(path, f"must be a Map, got {describe(raw)}")
            return None
        fields = entries(raw) or {}
        self.fields(path, fields, specs)
        return fields

    def fields(self, path: str, fields: dict[str, object], specs: dict[str, Field]) -> None:
        for name, spec in specs.items():
            value = fields.get(name, MISSING)
            problem = spec.problem(value)
            if problem is not None:
                self.add(f"{path}.{name}", problem)
            elif spec.type is FieldType.OBJECT and value is not MISSING:
                self.json(f"{path}.{name}", value)

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


def _check_meta(report: _Report, roots: Roots) -> None:
    fields = entries(roots.meta) or {}
    report.fields(META, fields, META_FIELDS)
    version = fields.get("schema_version", MISSING)
    if version is MISSING:
        report.add(f"{META}.schema_version", "is missing; run migrate()")
    elif META_FIELDS["schema_version"].problem(version) is None:
        assert isinstance(version, int | float)
        if version > CURRENT_SCHEMA_VERSION:
            report.add(
                f"{META}.schema_version",
                f"is {version:g}, newer than the {CURRENT_SCHEMA_VERSION} this code supports",
            )


def _check_tracks(report: _Report, roots: Roots) -> None:
    for track_id, raw in list(roots.tracks.items()):
        path = f"{TRACKS}.{track_id}"
        fields = report.record(path, raw, TRACK_FIELDS)
        if fields is None:
            continue
        clips = fields.get("clips", MISSING)
        if isinstance(clips, Map):
            for clip_id, clip in list(clips.items()):
                report.record(f"{path}.clips.{clip_id}", clip, CLIP_FIELDS)
        elif clips is not MISSING:
            report.add(f"{path}.clips", f"must be a Map, got {describe(clips)}")
        effects = fields.get("effects", MISSING)
        if isinstance(effects, Array):
            for index, effect in enumerate(list(effects)):
                report.record(f"{path}.effects.{index}", effect, EFFECT_FIELDS)
        elif effects is not MISSING:
            report.add(f"{path}.effects", f"must be an Array, got {describe(effects)}")


def _check_coaching(report: _Report, roots: Roots) -> None:
    for track_id, raw in list(roots.coaching.items()):
        path = f"{COACHING}.{track_id}"
        fields = report.record(path, raw, COACHING_FIELDS)
        if fields is None:
            continue
        if track_id not in roots.tracks:
            report.add(path, "is about a track that does not exist")
        notes = fields.get("notes", MISSING)
        if not isinstance(notes, Array):
            if notes is not MISSING:
                report.add(f"{path}.notes", f"must be an Array, got {describe(notes)}")
            continue
        for index, note in enumerate(list(notes)):
            note_fields = report.record(f"{path}.notes.{index}", note, NOTE_FIELDS)
            if note_fields is None:
                continue
            start_s, end_s = note_fields.get("start_s"), note_fields.get("end_s")
            if (
                isinstance(start_s, float)
                and isinstance(end_s, float)
                and NOTE_FIELDS["start_s"].problem(start_s) is None
                and NOTE_FIELDS["end_s"].problem(end_s) is None
                and end_s < start_s
            ):
                report.add(f"{path}.notes.{index}.end_s", "must be >= start_s")
