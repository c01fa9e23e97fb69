"""Restoring a version as a forward edit, and the diff summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Doc

from jacameno.docs_model import (
    InvalidValueError,
    ProjectDocument,
    diff_summary,
    restore_to,
    to_json,
)

Sync = Callable[..., None]
PeerOf = Callable[[ProjectDocument], ProjectDocument]


def _content(project: ProjectDocument) -> dict[str, Any]:
    view = to_json(project)
    view.pop("jobs")
    return view


def test_restore_brings_back_every_root(project: ProjectDocument) -> None:
    drums = project.add_track("Drums", "audio")
    bass = project.add_track("Bass", "audio")
    project.set_lyrics_text("verse one\nchorus\n")
    project.add_comment("ann", "tighter kick", 12.0)
    project.update_lyrics_meta({"rhyme_scheme": "AABB"})
    saved = project.doc.get_update()
    expected = _content(project)

    project.set_meta(title="Renamed", bpm=140.0)
    project.remove_track(bass)
    project.update_track(drums, volume_db=-6.0, name="Kit")
    project.add_track("Synth", "instrument")
    project.set_lyrics_text("verse one\nbridge\nchorus\n")
    project.add_comment("bob", "louder")
    project.update_lyrics_meta({"rhyme_scheme": "ABAB", "sections": ["v"]})

    assert restore_to(project.doc, saved, origin="test")
    assert _content(project) == expected


def test_restore_keeps_jobs(project: ProjectDocument) -> None:
    saved = project.doc.get_update()
    job_id = project.request_job("mixing", {"preset": "warm"}, requested_by="u1")
    restore_to(project, saved)
    assert [job.id for job in project.list_jobs()] == [job_id]


def test_restoring_the_current_state_writes_nothing(project: ProjectDocument) -> None:
    project.add_track("Drums", "audio")
    project.add_comment("ann", "hi")
    before = project.doc.get_state()
    assert not restore_to(project.doc, project.doc.get_update())
    assert project.doc.get_state() == before


def test_restore_edits_only_what_differs(project: ProjectDocument) -> None:
    drums = project.add_track("Drums", "audio")
    saved = project.doc.get_update()
    project.update_track(drums, volume_db=-3.0)
    updates: list[bytes] = []
    subscription = project.doc.observe(lambda event: updates.append(event.update))
    restore_to(project.doc, saved)
    project.doc.unobserve(subscription)
    assert len(updates) == 1  # one transaction
    assert len(updates[0]) < 120  # one key set, not a rebuilt track


def test_restore_is_a_forward_edit_peers_merge_without_duplicates(
    project: ProjectDocument, peer_of: PeerOf, sync: Sync
) -> None:
    project.set_lyrics_text("intro\nverse\noutro\n")
    project.add_comment("ann", "keep")
    saved = project.doc.get_update()
    other = peer_of(project)
    project.set_lyrics_text("intro\nverse changed\noutro\n")
    project.add_track("Extra", "audio")
    sync(project, other)

    # The other peer goes on editing (offline) while the restore happens.
    other.edit_lyrics(0, 0, "OFFLINE ")
    other.add_comment("bob", "written offline")
    restore_to(project.doc, saved, origin="service:versions")
    sync(project, other)

    assert to_json(project) == to_json(other)
    assert project.lyrics_text() == "OFFLINE intro\nverse\noutro\n"
    assert [c.text for c in project.list_comments()] == ["keep", "written offline"]
    assert project.tracks_in_order() == []


def test_restore_runs_migrations_and_refuses_garbage(project: ProjectDocument) -> None:
    old: Doc[Any] = Doc()
    ProjectDocument(old)  # a bare document: schema version 0
    restore_to(project.doc, old.get_update())
    assert project.get_meta().schema_version >= 1
    with pytest.raises(InvalidValueError):
        restore_to(project.doc, b"\x00\xff not an update")


def test_diff_summary_names_what_changed(project: ProjectDocument) -> None:
    drums = project.add_track("Drums", "audio")
    gone = project.add_track("Gone", "audio")
    project.set_lyrics_text("hello world")
    project.add_comment("ann", "one")
    old: Doc[Any] = Doc()
    old.apply_update(project.doc.get_update())

    project.update_track(drums, pan=0.5)
    project.remove_track(gone)
    added = project.add_track("New", "vocal")
    project.set_lyrics_text("hello there world")
    project.add_comment("bob", "two")
    project.set_meta(bpm=100.0)

    summary = diff_summary(old, project)
    assert summary["identical"] is False
    assert summary["tracks"] == {"added": [added], "removed": [gone], "changed": {drums: ["pan"]}}
    assert summary["lyrics"] == {
        "chars_removed": 0,
        "chars_inserted": 6,
        "old_length": 11,
        "new_length": 17,
    }
    assert summary["comments"] == {"added": 1, "removed": 0, "changed": 0}
    assert summary["meta"] == {"bpm": [96.0, 100.0]}
    assert diff_summary(project, project) == {"identical": True}


def test_a_restore_that_only_deletes_reports_a_change() -> None:
    from jacameno.docs_model import create_document, restore_to

    project = create_document(title="Song")
    project.set_lyrics_text("la la")
    version = project.doc.get_update()
    project.set_lyrics_text("la la la")
    assert restore_to(project, version) is True
    assert project.lyrics_text() == "la la"
    assert restore_to(project, version) is False
