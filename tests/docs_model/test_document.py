"""ProjectDocument reads and writes on a single peer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, TransactionEvent

from jacameno.docs_model import (
    CURRENT_SCHEMA_VERSION,
    ClipView,
    CoachingNoteView,
    DocsModelError,
    EffectView,
    InvalidValueError,
    MalformedDocumentError,
    ProjectDocument,
    SchemaTooNewError,
    TrackKind,
    UnknownClipError,
    UnknownCommentError,
    UnknownTrackError,
)

from .conftest import FakeClock


def test_create_document_sets_meta(make_project: Callable[..., ProjectDocument]) -> None:
    project = make_project(title="Night drive", bpm=84, key="F# minor", time_signature="6/8")
    meta = project.get_meta()
    assert meta.schema_version == CURRENT_SCHEMA_VERSION
    assert (meta.title, meta.bpm, meta.key, meta.time_signature) == (
        "Night drive",
        84.0,
        "F# minor",
        "6/8",
    )
    assert isinstance(project.roots.meta["bpm"], float)


def test_initialise_never_overwrites(project: ProjectDocument) -> None:
    project.initialise(title="Other", bpm=200.0)
    assert (project.get_meta().title, project.get_meta().bpm) == ("Demo", 96.0)


def test_initialise_refuses_newer_documents_before_writing() -> None:
    doc: Doc[Any] = Doc()
    doc.get("meta", type=Map)["schema_version"] = float(CURRENT_SCHEMA_VERSION + 1)
    project = ProjectDocument(doc)
    with pytest.raises(SchemaTooNewError):
        project.initialise(title="x")
    assert "title" not in project.roots.meta


def test_set_meta_checks_values(project: ProjectDocument) -> None:
    project.set_meta(bpm=128, key=None, time_signature="7/8")
    assert project.get_meta().bpm == 128.0
    assert project.get_meta().time_signature == "7/8"
    for bad in ({"bpm": 0}, {"bpm": float("nan")}, {"time_signature": "4-4"}, {"title": 3}):
        with pytest.raises(InvalidValueError):
            project.set_meta(**bad)
    assert project.get_meta().bpm == 128.0


def test_add_update_remove_track(project: ProjectDocument) -> None:
    track_id = project.add_track("Lead vocal", TrackKind.VOCAL, asset_id="asset-1", pan=-0.25)
    assert len(track_id) == 32
    assert int(track_id, 16) >= 0
    track = project.get_track(track_id)
    assert (track.name, track.kind, track.pan, track.volume_db) == (
        "Lead vocal",
        TrackKind.VOCAL,
        -0.25,
        0.0,
    )
    assert track.asset_id == "asset-1"
    project.update_track(track_id, volume_db=-6, mute=True, asset_id=None)
    track = project.get_track(track_id)
    assert (track.volume_db, track.mute, track.asset_id, track.name) == (
        -6.0,
        True,
        None,
        "Lead vocal",
    )
    project.remove_track(track_id)
    with pytest.raises(UnknownTrackError) as caught:
        project.get_track(track_id)
    assert isinstance(caught.value, DocsModelError)
    assert isinstance(caught.value, LookupError)


@pytest.mark.parametrize(
    "bad",
    [
        {"pan": 1.5},
        {"pan": float("nan")},
        {"volume_db": float("inf")},
        {"volume_db": "loud"},
        {"kind": "synth"},
        {"mute": 1},
        {"name": "bad \ud800 text"},
    ],
)
def test_update_track_rejects_bad_values_without_writing(
    project: ProjectDocument, bad: dict[str, Any]
) -> None:
    track_id = project.add_track("Keys", "instrument")
    before = project.get_track(track_id)
    with pytest.raises(InvalidValueError):
        project.update_track(track_id, **bad)
    assert project.get_track(track_id) == before


def test_unknown_ids_raise(project: ProjectDocument) -> None:
    with pytest.raises(UnknownTrackError):
        project.update_track("nope", name="x")
    with pytest.raises(UnknownTrackError):
        project.add_clip("nope", "asset", start_s=0, duration_s=1)
    with pytest.raises(UnknownTrackError):
        project.get_track("\udcff")  # an id pycrdt cannot even encode
    track_id = project.add_track("Drums")
    with pytest.raises(UnknownClipError):
        project.remove_clip(track_id, "nope")


def test_tracks_in_order_and_moves(project: ProjectDocument) -> None:
    drums = project.add_track("Drums")
    bass = project.add_track("Bass")
    keys = project.add_track("Keys", after=drums)
    vox = project.add_track("Vox", before=drums)

    def names() -> list[str]:
        return [track.name for track in project.tracks_in_order()]

    assert names() == ["Vox", "Drums", "Keys", "Bass"]
    assert [t.order for t in project.tracks_in_order()] == ["Zz", "a0", "a0V", "a1"]
    project.move_track(vox)
    assert names() == ["Drums", "Keys", "Bass", "Vox"]
    project.move_track(bass, before=drums)
    assert names() == ["Bass", "Drums", "Keys", "Vox"]
    project.move_track(vox, after=drums, before=keys)
    assert names() == ["Bass", "Drums", "Vox", "Keys"]
    with pytest.raises(InvalidValueError):
        project.move_track(vox, after=bass, before=keys)
    with pytest.raises(InvalidValueError):
        project.move_track(vox, after=vox)
    assert names() == ["Bass", "Drums", "Vox", "Keys"]


def test_move_between_tied_keys_rekeys_in_display_order(project: ProjectDocument) -> None:
    first = project.add_track("first")
    second = project.add_track("second")
    third = project.add_track("third")
    # Concurrent inserts at one place leave equal keys; ids break the tie.
    project.roots.tracks[second]["order"] = project.get_track(first).order
    tied = [t.id for t in project.tracks_in_order()]
    assert tied[2] == third
    project.move_track(third, after=tied[0], before=tied[1])
    ordered = project.tracks_in_order()
    assert [t.id for t in ordered] == [tied[0], third, tied[1]]
    orders = [t.order for t in ordered]
    assert orders == sorted(set(orders))


def test_clips(project: ProjectDocument) -> None:
    track_id = project.add_track("Guitar")
    late = project.add_clip(track_id, "asset-b", start_s=8, duration_s=4, offset_s=1.5)
    early = project.add_clip(track_id, "asset-a", start_s=0, duration_s=2.5, gain_db=-3)
    clips = project.get_track(track_id).clips
    assert [clip.id for clip in clips] == [early, late]
    assert clips[1] == ClipView(late, "asset-b", 8.0, 1.5, 4.0, 0.0)
    assert clips[1].end_s == 12.0
    project.update_clip(track_id, late, start_s=1.0)
    assert project.get_clip(track_id, late).start_s == 1.0
    with pytest.raises(InvalidValueError):
        project.update_clip(track_id, late, duration_s=-1)
    with pytest.raises(InvalidValueError):
        project.add_clip(track_id, "asset", start_s=-1, duration_s=1)
    project.remove_clip(track_id, early)
    assert [clip.id for clip in project.get_track(track_id).clips] == [late]


def test_add_clip_creates_missing_clips_map(project: ProjectDocument) -> None:
    project.roots.tracks["bare"] = Map({"name": "from a bare client", "kind": "audio"})
    clip_id = project.add_clip("bare", "asset", start_s=0, duration_s=1)
    assert [clip.id for clip in project.get_track("bare").clips] == [clip_id]


def test_set_effects_edits_matching_entries_in_place(project: ProjectDocument) -> None:
    track_id = project.add_track("Vox")
    project.set_effects(
        track_id,
        [{"plugin": "eq", "params": {"low_db": -2}}, EffectView("compressor", {"ratio": 4.0})],
    )
    chain = project.roots.tracks[track_id]["effects"]
    assert isinstance(chain, Array)
    chain[0]["marker"] = "kept"  # survives only if the entry is edited, not replaced
    project.set_effects(
        track_id,
        [{"plugin": "eq", "params": {"high_db": 1.5}}, {"plugin": "reverb", "params": {}}],
    )
    assert project.get_track(track_id).effects == (
        EffectView("eq", {"high_db": 1.5}),
        EffectView("reverb", {}),
    )
    assert chain[0]["marker"] == "kept"
    project.set_effects(track_id, [])
    assert project.get_track(track_id).effects == ()


@pytest.mark.parametrize(
    "effects",
    [[{"params": {}}], [{"plugin": ""}], [{"plugin": "eq", "params": {"q": float("nan")}}]],
)
def test_set_effects_rejects_bad_entries(
    project: ProjectDocument, effects: list[dict[str, Any]]
) -> None:
    track_id = project.add_track("Vox")
    with pytest.raises(InvalidValueError):
        project.set_effects(track_id, effects)


def test_remove_track_removes_its_coaching(project: ProjectDocument) -> None:
    track_id = project.add_track("Vox", "vocal")
    project.set_coaching(track_id, {"pitch_error_cents": 12.5}, [])
    project.remove_track(track_id)
    assert project.get_coaching(track_id) is None


def test_coaching(project: ProjectDocument, clock: FakeClock) -> None:
    track_id = project.add_track("Vox", "vocal")
    project.set_coaching(
        track_id,
        {"pitch_error_cents": 12.5, "timing_ms": 30},
        [
            {"time_s": 3.0, "kind": "pitch", "message": "flat", "figures": {"cents": -25}},
            CoachingNoteView(10.0, 12.0, "timing", "rushed", {}),
        ],
    )
    coaching = project.get_coaching(track_id)
    assert coaching is not None
    assert coaching.summary == {"pitch_error_cents": 12.5, "timing_ms": 30.0}
    assert coaching.notes == (
        CoachingNoteView(3.0, None, "pitch", "flat", {"cents": -25.0}),
        CoachingNoteView(10.0, 12.0, "timing", "rushed", {}),
    )
    assert coaching.updated_at == clock.now
    with pytest.raises(InvalidValueError):
        project.set_coaching(track_id, {}, [{"start_s": 5, "end_s": 4, "message": "x"}])
    with pytest.raises(InvalidValueError):
        project.set_coaching(track_id, {}, [{"kind": "pitch"}])
    with pytest.raises(UnknownTrackError):
        project.set_coaching("nope", {}, [])


def test_comments(project: ProjectDocument, clock: FakeClock) -> None:
    first = project.add_comment("ana", "Love the bridge", 62.5)
    second = project.add_comment("ben", "General note")
    comments = project.list_comments()
    assert [(c.id, c.author, c.text, c.time_s) for c in comments] == [
        (first, "ana", "Love the bridge", 62.5),
        (second, "ben", "General note", None),
    ]
    assert comments[1].created_at == clock.now
    project.remove_comment(first)
    assert [c.id for c in project.list_comments()] == [second]
    with pytest.raises(UnknownCommentError):
        project.remove_comment(first)
    with pytest.raises(InvalidValueError):
        project.add_comment("ana", "   ")
    with pytest.raises(InvalidValueError):
        project.add_comment("ana", "x", time_s=-1)


def test_comment_threads_and_resolution(project: ProjectDocument) -> None:
    first = project.add_comment("ana", "Bridge too long?", 62.5)
    reply = project.add_comment("ben", "Cut 4 bars", reply_to=first)
    views = {c.id: c for c in project.list_comments()}
    assert (views[first].reply_to, views[first].resolved) == (None, False)
    assert (views[reply].reply_to, views[reply].resolved, views[reply].time_s) == (
        first,
        False,
        None,
    )
    # A thread's first comment has no reply_to key at all (as the browser writes it).
    raw = project.roots.comments[0]
    assert "reply_to" not in raw
    assert raw["resolved"] is False
    project.set_comment_resolved(first)
    assert [c.resolved for c in project.list_comments()] == [True, False]
    project.set_comment_resolved(first, False)
    assert [c.resolved for c in project.list_comments()] == [False, False]
    with pytest.raises(UnknownCommentError):
        project.add_comment("ana", "to nobody", reply_to="missing")
    with pytest.raises(UnknownCommentError):
        project.set_comment_resolved("missing")
    with pytest.raises(InvalidValueError):
        project.set_comment_resolved(first, "yes")  # type: ignore[arg-type]
    assert len(project.list_comments()) == 2


def test_comment_fields_written_by_peers_read_leniently(project: ProjectDocument) -> None:
    project.roots.comments.append(
        Map({"id": "c1", "author": "js", "text": "hi", "reply_to": "c0", "resolved": True})
    )
    project.roots.comments.append(
        Map({"id": "c2", "author": "js", "text": "odd", "reply_to": 3.0, "resolved": "yes"})
    )
    project.roots.comments.append(Map({"id": "c3", "author": "old", "text": "no new fields"}))
    views = project.list_comments()
    assert [(c.id, c.reply_to, c.resolved) for c in views] == [
        ("c1", "c0", True),
        ("c2", None, False),
        ("c3", None, False),
    ]


def test_lyrics_edits_count_characters(project: ProjectDocument) -> None:
    project.set_lyrics_text("la 🎵 la")
    project.edit_lyrics(5, 0, "🎶 ")
    assert project.lyrics_text() == "la 🎵 🎶 la"
    project.set_lyrics_text("la 🎵 da 🎶 la")
    assert project.lyrics_text() == "la 🎵 da 🎶 la"
    with pytest.raises(InvalidValueError):
        project.edit_lyrics(100, 1)
    with pytest.raises(InvalidValueError):
        project.set_lyrics_text("\ud800")
    # The update carries the text intact (an index inside a character would corrupt it).
    other: Doc[Any] = Doc()
    other.apply_update(project.doc.get_update())
    assert ProjectDocument(other).lyrics_text() == "la 🎵 da 🎶 la"


def test_lyrics_meta_and_mix(project: ProjectDocument) -> None:
    project.update_lyrics_meta({"rhyme_scheme": "ABAB", "sections": [{"name": "verse", "line": 0}]})
    assert project.lyrics_meta() == {
        "rhyme_scheme": "ABAB",
        "sections": [{"name": "verse", "line": 0.0}],
    }
    project.update_mix(
        preset="warm", master_settings={"target_lufs": -14}, master_loudness_lufs=-14.2
    )
    mix = project.get_mix()
    assert (mix.preset, mix.master_settings, mix.master_loudness_lufs) == (
        "warm",
        {"target_lufs": -14.0},
        -14.2,
    )
    assert mix.render_asset_id is None
    with pytest.raises(InvalidValueError):
        project.update_mix(master_true_peak_dbtp=float("nan"))
    with pytest.raises(InvalidValueError):
        project.update_lyrics_meta({"x": {1, 2}})


def test_each_write_is_one_transaction_with_its_origin(project: ProjectDocument) -> None:
    seen: list[TransactionEvent] = []
    origins: list[object] = []
    project.doc.observe(seen.append)
    project.roots.tracks.observe_deep(lambda events: origins.append(events[0].transaction.origin))
    track_id = project.add_track("Drums", origin="ui")
    project.update_track(track_id, name="Kit", volume_db=-3, pan=0.5, origin="ui")
    project.move_track(track_id, origin="ui")
    assert len(seen) == 3
    assert origins == ["ui", "ui", "ui"]


def test_writes_join_an_open_transaction(project: ProjectDocument) -> None:
    seen: list[TransactionEvent] = []
    project.doc.observe(seen.append)
    with project.doc.transaction(origin="batch"):
        track_id = project.add_track("A", origin="batch")
        project.add_clip(track_id, "asset", start_s=0, duration_s=1)
    assert len(seen) == 1


def test_writes_to_malformed_tracks_refuse(project: ProjectDocument) -> None:
    project.roots.tracks["junk"] = "not a map"
    project.roots.tracks["dict"] = {"name": "plain object", "kind": "audio", "order": "a5"}
    with pytest.raises(MalformedDocumentError):
        project.update_track("junk", name="x")
    with pytest.raises(MalformedDocumentError):
        project.get_track("junk")
    with pytest.raises(MalformedDocumentError):
        project.add_clip("dict", "asset", start_s=0, duration_s=1)
    # Reads repair what they can: the plain object still shows as a track.
    assert [track.name for track in project.tracks_in_order()] == ["plain object"]


def test_construction_inside_an_observer_fails_clearly(project: ProjectDocument) -> None:
    errors: list[Exception] = []

    def observer(_: object) -> None:
        try:
            ProjectDocument(Doc())
            ProjectDocument(project.doc)
        except DocsModelError as exc:
            errors.append(exc)

    project.roots.tracks.observe(observer)
    project.add_track("x")
    assert len(errors) == 1
    assert "observer" in str(errors[0])


def test_values_pycrdt_would_panic_on_are_refused_or_converted(project: ProjectDocument) -> None:
    track_id = project.add_track("x")
    with pytest.raises(InvalidValueError):
        project.update_track(track_id, volume_db=10**400)
    with pytest.raises(InvalidValueError):
        project.add_comment("ana", "bad \udc80 text")
    with pytest.raises(InvalidValueError):
        project.request_job("mixing", {"bad \ud800 key": 1})
    # Big ints become floats instead of reaching pycrdt as ints >= 2**63.
    job_id = project.request_job("mixing", {"seed": 2**70})
    assert project.get_job(job_id).params == {"seed": float(2**70)}
