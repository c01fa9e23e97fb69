"""Fixtures for docs_model tests: a deterministic clock, project factories and sync."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Doc

from jacameno.docs_model import ProjectDocument, create_document


class FakeClock:
    """Epoch seconds that advance by one second per reading."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_project(clock: FakeClock) -> Callable[..., ProjectDocument]:
    def make(**meta: Any) -> ProjectDocument:
        return create_document(clock=clock, **meta)

    return make


@pytest.fixture
def project(make_project: Callable[..., ProjectDocument]) -> ProjectDocument:
    return make_project(title="Demo", bpm=96.0)


def exchange(*docs: Doc[Any]) -> None:
    """Bring every doc up to date with every other, as a sync server would."""
    for source in docs:
        for target in docs:
            if source is not target:
                target.apply_update(source.get_update(target.get_state()))


@pytest.fixture
def sync() -> Callable[..., None]:
    def run(*projects: ProjectDocument | Doc[Any]) -> None:
        exchange(*(p.doc if isinstance(p, ProjectDocument) else p for p in projects))

    return run


@pytest.fixture
def peer_of(clock: FakeClock) -> Callable[[ProjectDocument], ProjectDocument]:
    """A second peer that starts from the state of the first."""

    def make(project: ProjectDocument) -> ProjectDocument:
        doc: Doc[Any] = Doc()
        doc.apply_update(project.doc.get_update())
        return ProjectDocument(doc, clock=clock)

    return make
