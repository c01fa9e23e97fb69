"""schema_version and forward migrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Array, Doc, Map

from jacameno.docs_model import (
    CURRENT_SCHEMA_VERSION,
    MIGRATIONS,
    DocsModelError,
    ProjectDocument,
    SchemaTooNewError,
    SchemaVersionError,
    migrate,
    schema_version,
    to_json,
    validate,
)


def bare_client_doc() -> Doc[Any]:
    """What a client without docs_model might write: no schema_version, sparse tracks."""
    doc: Doc[Any] = Doc()
    doc.get("meta", type=Map)["title"] = "Bare"
    tracks = doc.get("tracks", type=Map)
    tracks["t2"] = Map({"name": "Second"})
    tracks["t1"] = Map({"name": "First", "volume_db": -4.0})
    tracks["t0"] = Map({"name": "Ordered", "order": "a5", "clips": Map()})
    doc.get("comments", type=Array).append(Map({"author": "x", "text": "y"}))
    return doc


def test_registry_covers_every_version() -> None:
    assert CURRENT_SCHEMA_VERSION == 1
    assert sorted(MIGRATIONS) == list(range(CURRENT_SCHEMA_VERSION))


def test_version_zero_gets_defaults_without_new_containers() -> None:
    doc = bare_client_doc()
    assert schema_version(doc) == 0
    assert migrate(doc) == (0, 1)
    assert schema_version(doc) == 1
    project = ProjectDocument(doc)
    meta = project.get_meta()
    assert (meta.title, meta.bpm, meta.time_signature, meta.key) == ("Bare", 120.0, "4/4", None)
    tracks = project.roots.tracks
    assert tracks["t1"]["volume_db"] == -4.0
    assert tracks["t2"]["volume_db"] == 0.0
    assert tracks["t1"]["kind"] == "audio"
    assert tracks["t2"]["mute"] is False
    # Tracks without an order go after the ordered ones, by id: every peer agrees.
    assert [t.id for t in project.tracks_in_order()] == ["t0", "t1", "t2"]
    assert (tracks["t1"]["order"], tracks["t2"]["order"]) == ("a6", "a7")
    # Nested shared types are left for writers to create (see migrations docstring).
    assert "clips" not in tracks["t1"]
    assert "effects" not in tracks["t1"]
    assert len(project.list_comments()) == 1
    assert validate(doc) == []


def test_migrate_is_idempotent_and_writes_nothing_the_second_time() -> None:
    doc = bare_client_doc()
    migrate(doc)
    state, snapshot = doc.get_state(), to_json(doc)
    assert migrate(doc) == (1, 1)
    assert doc.get_state() == state
    assert to_json(doc) == snapshot


def test_migration_happens_in_one_transaction_with_the_origin() -> None:
    doc = bare_client_doc()
    origins: list[object] = []
    doc.observe(lambda event: origins.append(event))
    tracks = doc.get("tracks", type=Map)
    seen: list[object] = []
    tracks.observe_deep(lambda events: seen.append(events[0].transaction.origin))
    migrate(doc, origin="migrator")
    assert len(origins) == 1
    assert seen == ["migrator"]


def test_two_peers_migrating_the_same_state_converge(sync: Any) -> None:
    source = bare_client_doc()
    a: Doc[Any] = Doc()
    b: Doc[Any] = Doc()
    for doc in (a, b):
        doc.apply_update(source.get_update())
        migrate(doc)
    sync(a, b)
    assert to_json(a) == to_json(b)
    assert [t["id"] for t in to_json(a)["tracks"]] == ["t0", "t1", "t2"]
    assert len(ProjectDocument(a).list_comments()) == 1


def test_newer_documents_are_refused(
    make_project: Callable[..., ProjectDocument],
) -> None:
    project = make_project()
    project.roots.meta["schema_version"] = 7.0
    with pytest.raises(SchemaTooNewError) as caught:
        migrate(project)
    error = caught.value
    assert isinstance(error, SchemaVersionError)
    assert isinstance(error, DocsModelError)
    assert (error.found, error.supported) == (7, CURRENT_SCHEMA_VERSION)
    assert "upgrade" in str(error)
    assert project.roots.meta["schema_version"] == 7.0


@pytest.mark.parametrize("junk", ["1", 1.5, -1.0, True, None, float("nan")])
def test_unreadable_versions_raise(junk: object) -> None:
    doc: Doc[Any] = Doc()
    doc.get("meta", type=Map)["schema_version"] = junk
    with pytest.raises(SchemaVersionError):
        migrate(doc)
