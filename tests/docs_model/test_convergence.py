"""Two peers editing concurrently converge, and nothing duplicates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pycrdt import Doc

from jacameno.docs_model import (
    ProjectDocument,
    create_document,
    migrate,
    to_json,
    validate,
)

from .conftest import FakeClock


def test_concurrent_initialise_does_not_duplicate(clock: FakeClock, sync: Any) -> None:
    a = create_document(title="From A", bpm=100, clock=clock)
    b = create_document(title="From B", bpm=140, clock=clock)
    sync(a, b)
    assert to_json(a) == to_json(b)
    assert to_json(a)["meta"]["title"] in ("From A", "From B")
    assert a.tracks_in_order() == []
    assert a.list_comments() == []
    assert a.lyrics_text() == ""
    # Re-initialising and migrating after the merge writes nothing new.
    before = a.doc.get_state()
    a.initialise()
    migrate(a)
    assert a.doc.get_state() == before
    assert sorted(a.roots.meta.keys()) == [
        "bpm",
        "key",
        "schema_version",
        "time_signature",
        "title",
    ]
    assert validate(a) == []


def test_concurrent_appends_keep_both_tracks_in_one_order(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    base = project.add_track("Drums")
    peer = peer_of(project)
    mine = project.add_track("Bass")
    theirs = peer.add_track("Keys")
    assert project.get_track(mine).order == peer.get_track(theirs).order  # same key: a tie
    sync(project, peer)
    ids = [track.id for track in project.tracks_in_order()]
    assert ids == [track.id for track in peer.tracks_in_order()]
    assert ids[0] == base
    assert sorted(ids[1:]) == sorted([mine, theirs])
    # A later insert between the tied tracks still lands where it was asked to.
    between = project.add_track("Pad", after=ids[1], before=ids[2])
    sync(project, peer)
    assert [t.id for t in peer.tracks_in_order()] == [ids[0], ids[1], between, ids[2]]


def test_concurrent_moves_and_edits_converge(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    ids = [project.add_track(name) for name in ("A", "B", "C", "D")]
    peer = peer_of(project)
    project.move_track(ids[0], after=ids[2])
    peer.move_track(ids[3], before=ids[1])
    project.update_track(ids[1], volume_db=-3)
    peer.update_track(ids[1], pan=0.5)
    sync(project, peer)
    assert to_json(project) == to_json(peer)
    track = peer.get_track(ids[1])
    assert (track.volume_db, track.pan) == (-3.0, 0.5)
    assert len(peer.tracks_in_order()) == 4


def test_concurrent_effect_param_edits_merge(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    track_id = project.add_track("Vox")
    project.set_effects(track_id, [{"plugin": "eq", "params": {"low_db": 0, "high_db": 0}}])
    peer = peer_of(project)
    project.set_effects(track_id, [{"plugin": "eq", "params": {"low_db": -3, "high_db": 0}}])
    peer.set_effects(track_id, [{"plugin": "eq", "params": {"low_db": 0, "high_db": 2}}])
    sync(project, peer)
    effects = peer.get_track(track_id).effects
    assert len(effects) == 1
    assert effects[0].params == {"low_db": -3.0, "high_db": 2.0}
    assert project.get_track(track_id).effects == effects


def test_concurrent_lyrics_edits_both_survive(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    project.set_lyrics_text("first line 🎤\nsecond line\n")
    peer = peer_of(project)
    project.set_lyrics_text("first line 🎤 (yeah)\nsecond line\n")
    peer.set_lyrics_text("first line 🎤\nsecond line, again\n")
    sync(project, peer)
    assert (
        project.lyrics_text()
        == peer.lyrics_text()
        == ("first line 🎤 (yeah)\nsecond line, again\n")
    )


def test_concurrent_clips_comments_jobs_and_coaching(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    track_id = project.add_track("Vox", "vocal")
    peer = peer_of(project)
    project.add_clip(track_id, "a1", start_s=0, duration_s=1)
    peer.add_clip(track_id, "a2", start_s=1, duration_s=1)
    project.add_comment("ana", "one")
    peer.add_comment("ben", "two")
    project.request_job("mixing")
    peer.request_job("mastering")
    project.set_coaching(track_id, {"score": 1}, [{"start_s": 0, "message": "a"}])
    peer.set_coaching(track_id, {"score": 2}, [{"start_s": 0, "message": "b"}])
    sync(project, peer)
    view = to_json(project)
    assert view == to_json(peer)
    assert len(project.get_track(track_id).clips) == 2
    assert sorted(c.text for c in project.list_comments()) == ["one", "two"]
    assert len(project.list_jobs()) == 2
    coaching = project.get_coaching(track_id)
    assert coaching is not None
    assert len(coaching.notes) == 1
    assert json.loads(json.dumps(view, allow_nan=False)) == view


def test_remove_track_while_peer_adds_clip(
    project: ProjectDocument, peer_of: Callable[[ProjectDocument], ProjectDocument], sync: Any
) -> None:
    track_id = project.add_track("Gtr")
    peer = peer_of(project)
    project.remove_track(track_id)
    peer.add_clip(track_id, "a1", start_s=0, duration_s=1)
    sync(project, peer)
    assert project.tracks_in_order() == peer.tracks_in_order() == []
    assert validate(project) == validate(peer) == []


def test_to_json_round_trips_through_a_fresh_peer(project: ProjectDocument) -> None:
    track_id = project.add_track("Drums")
    project.add_clip(track_id, "asset", start_s=2, duration_s=3)
    project.set_effects(track_id, [{"plugin": "comp", "params": {"ratio": 3}}])
    project.set_lyrics_text("hello")
    project.request_job("analysis")
    project.add_comment("ana", "hi", 1.0)
    fresh: Doc[Any] = Doc()
    fresh.apply_update(project.doc.get_update())
    assert to_json(fresh) == to_json(project)
