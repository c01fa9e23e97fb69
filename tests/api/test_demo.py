from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from jacameno.api.auth.passwords import PasswordHasher
from jacameno.api.db import Database
from jacameno.api.db.models import Asset, User
from jacameno.api.demo import DEMO_EMAIL, DEMO_PASSWORD, STEMS, create_demo
from jacameno.api.settings import Settings, SettingsError
from jacameno.collab.store_backends import create_document_store
from jacameno.docs_model import JobStatus, ProjectDocument
from tests.collab.test_store import _rebuild


@pytest.mark.slow
async def test_demo_creates_a_login_and_an_analysed_project(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(argon2_time_cost=1, argon2_memory_kib=64, job_workers=1)
    first = await create_demo(settings)
    again = await create_demo(settings)
    assert first.created
    assert not again.created
    assert again.project_id == first.project_id

    database = Database(settings.database_url)
    async with database.session() as session:
        user = (await session.execute(select(User).where(User.email == DEMO_EMAIL))).scalar_one()
        assets = list(
            (
                await session.execute(select(Asset).where(Asset.project_id == first.project_id))
            ).scalars()
        )
    hasher = PasswordHasher(time_cost=1, memory_kib=64)
    assert await hasher.verify(DEMO_PASSWORD, user.password_hash)
    assert {a.filename for a in assets if a.kind == "upload"} == {f"{n}.flac" for n in STEMS}

    async with create_document_store(database.engine) as store:
        stored = await store.load(first.project_id)
    await database.aclose()
    project = ProjectDocument(_rebuild(stored.updates))
    assert {t.name for t in project.tracks_in_order()} == set(STEMS)
    assert project.get_meta().key == "A minor"
    jobs = project.list_jobs()
    assert len(jobs) == len(STEMS)
    assert all(job.status is JobStatus.DONE for job in jobs)


def test_demo_refuses_production(make_settings: Callable[..., Settings]) -> None:
    import anyio

    settings = make_settings(env="production", secret_key="p" * 48)
    with pytest.raises(SettingsError):
        anyio.run(create_demo, settings)
