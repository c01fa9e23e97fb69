"""One declaration per record: the view, its Field table, the JSON view, validate(), the
writers' arguments and docs/schema.md all follow it."""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest
from pycrdt import Map

from jacameno.docs_model import (
    ClipView,
    CoachingNoteView,
    CoachingView,
    CommentView,
    EffectView,
    InvalidValueError,
    JobView,
    MetaView,
    MixView,
    ProjectDocument,
    TrackView,
    to_json,
    validate,
)
from jacameno.docs_model import views as tables
from jacameno.docs_model.fields import FieldType
from jacameno.docs_model.records import (
    KEY,
    Container,
    RecordSpec,
    RootKind,
    Rule,
    checked_entry,
    nested_list,
    read_record,
    record,
    record_spec,
    spec,
)
from jacameno.docs_model.schema import ROOTS, AutomationPointView, MidiClipView, NoteView
from jacameno.docs_model.schema_doc import schema_markdown

SCHEMA_MD = Path(__file__).resolve().parents[2] / "docs" / "schema.md"

TABLES = {
    MetaView: tables.META_FIELDS,
    TrackView: tables.TRACK_FIELDS,
    ClipView: tables.CLIP_FIELDS,
    AutomationPointView: tables.AUTOMATION_POINT_FIELDS,
    MidiClipView: tables.MIDI_CLIP_FIELDS,
    NoteView: tables.MIDI_NOTE_FIELDS,
    EffectView: tables.EFFECT_FIELDS,
    MixView: tables.MIX_FIELDS,
    JobView: tables.JOB_FIELDS,
    CoachingView: tables.COACHING_FIELDS,
    CoachingNoteView: tables.NOTE_FIELDS,
    CommentView: tables.COMMENT_FIELDS,
}


def all_records() -> Iterator[RecordSpec]:
    """Every record reachable from the roots, nested ones included."""
    pending = [record_spec(root.view) for root in ROOTS if root.view is not None]
    while pending:
        declared = pending.pop(0)
        yield declared
        pending += [record_spec(nested.view) for nested in declared.nested.values()]


def view_fields(view: type[Any]) -> set[str]:
    return {field.name for field in dataclasses.fields(view)}


def test_schema_doc_is_generated_from_the_declarations() -> None:
    assert SCHEMA_MD.read_text(encoding="utf-8") == schema_markdown(), (
        "docs/schema.md is stale: run `python -m jacameno.docs_model.schema_doc > docs/schema.md`"
    )


def test_every_record_is_declared_and_has_its_table() -> None:
    declared = list(all_records())
    assert {spec.view for spec in declared} == set(TABLES)
    for record_of in declared:
        keys, stored = set(record_of.keys), set(record_of.fields)
        nested = set(record_of.nested)
        assert keys | stored | nested == view_fields(record_of.view)
        assert len(keys) + len(stored) + len(nested) == len(view_fields(record_of.view))
        assert TABLES[record_of.view] is record_of.fields
        assert all(name == spec.name for name, spec in record_of.fields.items())


def _accepts(annotation: Any) -> set[type[Any]]:
    """The classes a (resolved) annotation names, e.g. {float, NoneType}."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    members = args or (annotation,)
    return {typing.get_origin(member) or member for member in members}


def test_annotations_agree_with_field_specs() -> None:
    python_types = {
        FieldType.NUMBER: float,
        FieldType.STRING: str,
        FieldType.ORDER_KEY: str,
        FieldType.BOOL: bool,
        FieldType.OBJECT: dict,
    }
    for declared in all_records():
        hints = typing.get_type_hints(declared.view)
        for name, field_spec in declared.fields.items():
            accepted = _accepts(hints[name])
            expected = field_spec.enum or python_types[field_spec.type]
            assert (int if field_spec.integer else expected) in accepted, name
            # A field reads as None exactly when its default is None (required fields of
            # skipped records never read as their default).
            reads_none = field_spec.default is None and not field_spec.required
            assert (types.NoneType in accepted) == reads_none, (declared.view.__name__, name)


def _full_project() -> tuple[ProjectDocument, dict[type[Any], list[str]]]:
    """A document holding one record of every kind, and the path of each."""
    project = ProjectDocument()
    project.initialise()
    track_id = project.add_track("Vox", "vocal")
    clip_id = project.add_clip(track_id, "asset", start_s=1.0, duration_s=2.0)
    project.set_effects(track_id, [{"plugin": "eq", "params": {"low_db": 1.0}}])
    project.set_automation(track_id, "volume", [{"time_s": 0.5, "value": -3.0}])
    project.set_automation(track_id, "pan", [{"time_s": 0.5, "value": 0.5}])
    keys = project.add_track("Keys", "midi", instrument=4)
    project.set_automation(keys, "volume", [{"time_s": 0.0, "value": -1.0}])
    project.set_automation(keys, "pan", [{"time_s": 0.0, "value": 0.0}])
    midi_clip = project.add_midi_clip(keys, start_s=0.0, duration_s=4.0)
    note_id = project.add_note(keys, midi_clip, pitch=60, start_beats=0.0, length_beats=1.0)
    project.set_coaching(track_id, {"score": 1.0}, [{"start_s": 0.0, "message": "ok"}])
    job_id = project.request_job("mixing")
    project.add_comment("ana", "nice")
    track = f"tracks.{track_id}"
    paths = {
        MetaView: ["meta"],
        MixView: ["mix"],
        TrackView: [track, f"tracks.{keys}"],
        ClipView: [f"{track}.clips.{clip_id}"],
        EffectView: [f"{track}.effects.0"],
        AutomationPointView: [f"{track}.volume_automation.0", f"{track}.pan_automation.0"],
        MidiClipView: [f"tracks.{keys}.midi_clips.{midi_clip}"],
        NoteView: [f"tracks.{keys}.midi_clips.{midi_clip}.notes.{note_id}"],
        JobView: [f"jobs.{job_id}"],
        CoachingView: [f"coaching.{track_id}"],
        CoachingNoteView: [f"coaching.{track_id}.notes.0"],
        CommentView: ["comments.0"],
    }
    return project, paths


def test_json_view_has_exactly_the_view_fields() -> None:
    project, _ = _full_project()
    view = to_json(project)
    track = view["tracks"][0]
    coaching = next(iter(view["coaching"].values()))
    found = {
        MetaView: view["meta"],
        MixView: view["mix"],
        TrackView: track,
        ClipView: track["clips"][0],
        EffectView: track["effects"][0],
        AutomationPointView: track["volume_automation"][0],
        JobView: view["jobs"][0],
        CoachingView: coaching,
        CoachingNoteView: coaching["notes"][0],
        CommentView: view["comments"][0],
    }
    for record_view, record_json in found.items():
        assert set(record_json) == view_fields(record_view), record_view.__name__
    assert list(view) == ["schema_version", *(root.name for root in ROOTS)]


_WRONG_VALUE = {
    FieldType.NUMBER: "not a number",
    FieldType.STRING: 7.0,
    FieldType.ORDER_KEY: 7.0,
    FieldType.BOOL: 7.0,
    FieldType.OBJECT: 7.0,
}


def _raw(project: ProjectDocument, path: str) -> Map[Any]:
    root, *rest = path.split(".")
    target: Any = getattr(project.roots, root)
    for part in rest:
        target = target[int(part)] if part.isdigit() else target[part]
    assert isinstance(target, Map)
    return target


def test_validate_checks_exactly_the_declared_keys() -> None:
    project, paths = _full_project()
    expected: set[str] = set()
    for declared in all_records():
        for path in paths[declared.view]:
            raw = _raw(project, path)
            for name, field_spec in declared.fields.items():
                raw[name] = _WRONG_VALUE[field_spec.type]
                expected.add(f"{path}.{name}")
            for name, nested in declared.nested.items():  # a junk item in each collection
                collection = raw[name]
                if nested.container is Container.MAP:
                    collection["junk"] = 7.0
                    expected.add(f"{path}.{name}.junk")
                else:
                    collection.append(7.0)
                    expected.add(f"{path}.{name}.{len(collection) - 1}")
            raw["not_in_the_schema"] = 7.0  # unknown keys are left to newer clients
    assert {problem.path for problem in validate(project)} == expected


@pytest.mark.parametrize(
    ("writer", "declared", "not_written_here"),
    [
        (ProjectDocument.add_track, TrackView, {"order"}),
        (ProjectDocument.update_track, TrackView, {"order"}),
        (ProjectDocument.add_clip, ClipView, set()),
        (ProjectDocument.update_clip, ClipView, set()),
        (ProjectDocument.update_mix, MixView, set()),
        (ProjectDocument.set_meta, MetaView, {"schema_version"}),
        (ProjectDocument.initialise, MetaView, {"schema_version"}),
    ],
)
def test_writers_take_every_declared_field(
    writer: Callable[..., Any], declared: type[Any], not_written_here: set[str]
) -> None:
    """A field added to a record must also be added to the writers that set it."""
    arguments = set(inspect.signature(writer).parameters)
    assert set(record_spec(declared).fields) - not_written_here <= arguments


# The machinery on a record of its own: what a new field gets without further code.


def _ordered(values: typing.Mapping[str, object]) -> bool:
    low, high = values["low"], values["high"]
    return not (isinstance(low, float) and isinstance(high, float) and high < low)


@record(rules=(Rule("high", "must be >= low", _ordered),))
@dataclass(frozen=True)
class RangeView:
    id: Annotated[str, KEY]
    low: Annotated[float, spec(FieldType.NUMBER, required=True, minimum=0.0)]
    high: Annotated[float | None, spec(FieldType.NUMBER, nullable=True)]
    label: Annotated[str, spec(FieldType.STRING, default="range")]
    parts: Annotated[tuple[EffectView, ...], nested_list(EffectView)]


def test_a_declared_record_reads_checks_and_validates_without_more_code() -> None:
    declared = record_spec(RangeView)
    assert declared.keys == ("id",)
    assert declared.nested["parts"].container is Container.ARRAY
    raw = {"low": 2.0, "high": 1.0, "label": 3.0, "parts": [{"plugin": "eq"}, 1.0]}
    assert read_record(RangeView, raw, id="r") == RangeView(
        "r", 2.0, None, "range", (EffectView("eq", {}),)
    )
    assert read_record(RangeView, {"high": 1.0}, id="r") is None  # low is required
    assert checked_entry(RangeView, {"low": 1}, "ranges[0]") == {
        "low": 1.0,
        "high": None,
        "label": "range",
    }
    with pytest.raises(InvalidValueError, match=r"^ranges\[0\]\.high must be >= low$"):
        checked_entry(RangeView, {"low": 2, "high": 1}, "ranges[0]")
    with pytest.raises(InvalidValueError, match=r"^ranges\[0\]\.low is required$"):
        checked_entry(RangeView, {}, "ranges[0]")


def test_an_undeclared_attribute_fails_at_declaration() -> None:
    with pytest.raises(TypeError, match="needs exactly one of spec"):

        @record()
        @dataclass(frozen=True)
        class Forgotten:
            name: Annotated[str, spec(FieldType.STRING, default="")]
            untyped: str


def test_roots_name_their_records() -> None:
    kinds = {root.name: root.kind for root in ROOTS}
    assert kinds["lyrics"] is RootKind.TEXT
    assert all(
        (root.view is None) == (root.kind in (RootKind.TEXT, RootKind.JSON)) for root in ROOTS
    )
