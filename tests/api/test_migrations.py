from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from jacameno.api.db import create_engine
from jacameno.api.db.migrate import (
    TARGET_METADATA,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)

EXPECTED_TABLES = {
    "users",
    "projects",
    "memberships",
    "invites",
    "api_keys",
    "refresh_tokens",
    "assets",
    "tracks",
    "jobs",
    "doc_updates",
    "doc_snapshots",
    "doc_quarantine",
    "versions",
    "plugins",
    "analytics_events",
    "auth_sessions",
    "identities",
    "one_time_tokens",
    "oauth_flows",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_then_downgrade(db_url: str) -> None:
    assert await current_revision(db_url) is None
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()
    assert await _tables(db_url) == EXPECTED_TABLES
    await downgrade(db_url, "base")
    assert await _tables(db_url) == set()
    await upgrade(db_url)
    assert await _tables(db_url) == EXPECTED_TABLES


async def test_migrations_match_the_models(db_url: str) -> None:
    await upgrade(db_url)
    engine = create_engine(db_url)

    def diff(sync: Connection) -> list[object]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, TARGET_METADATA))  # type: ignore[arg-type]

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        async with engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    finally:
        await engine.dispose()
    assert mode == "wal"
    assert timeout is not None
    assert int(timeout) >= 5000
