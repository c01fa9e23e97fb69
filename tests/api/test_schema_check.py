"""``serve`` refuses a database whose schema is not the code's; ``/readyz`` reports it.

Before the check, an unmigrated PostgreSQL database let ``serve`` start, ``/readyz``
said ok, and the first sign-up answered 500.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from jacameno.api.app import create_app
from jacameno.api.cli import EXIT_CONFIG
from jacameno.api.db import Database
from jacameno.api.db.migrate import SchemaMismatchError, head_revision, upgrade
from jacameno.api.settings import Settings
from tests.support.app_server import free_port

REPO = Path(__file__).resolve().parents[2]


def refusal(current: str) -> str:
    return (
        f"the database schema is at revision {current}, the code needs {head_revision()}:"
        " run 'jacameno db upgrade'"
    )


async def start_app(settings: Settings) -> None:
    """Run the application's lifespan start-up (and shut down straight after)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pass


async def set_revision(url: str, revision: str) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            await session.execute(
                text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision}
            )
    finally:
        await database.aclose()


def serve(tmp_path: Path, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    environment.update(
        PYTHONPATH=str(REPO),
        JACAMENO_DATABASE_URL=database_url,
        JACAMENO_DATA_DIR=str(tmp_path / "var"),
        JACAMENO_STORAGE_URL=f"file://{tmp_path / 'storage'}",
        JACAMENO_PORT=str(free_port()),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "jacameno.api.cli", "serve"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.postgres
async def test_start_refuses_an_unmigrated_postgresql_database(
    make_settings: Callable[..., Settings], postgres_url: str
) -> None:
    with pytest.raises(SchemaMismatchError) as refused:
        await start_app(make_settings(database_url=postgres_url))
    assert str(refused.value) == refusal("none")


async def test_start_refuses_sqlite_when_auto_migrate_is_off(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    with pytest.raises(SchemaMismatchError) as never_migrated:
        await start_app(make_settings(database_url=url, auto_migrate=False))
    await upgrade(url, "0001")
    with pytest.raises(SchemaMismatchError) as behind:
        await start_app(make_settings(database_url=url, auto_migrate=False))
    assert str(never_migrated.value) == refusal("none")
    assert str(behind.value) == refusal("0001")


async def test_sqlite_auto_migrate_starts_at_head(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await start_app(make_settings(database_url=url))
    await start_app(make_settings(database_url=url, auto_migrate=False))


async def test_a_schema_newer_than_the_code_is_refused_too(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}"
    await upgrade(url)
    await set_revision(url, "9999_from_the_future")
    with pytest.raises(SchemaMismatchError, match="which this code does not know"):
        await start_app(make_settings(database_url=url, auto_migrate=False))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_serve_prints_one_line_and_exits_2(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url, env = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", {"JACAMENO_AUTO_MIGRATE": "false"}
    else:
        url, env = request.getfixturevalue("postgres_url"), {}
    result = serve(tmp_path, url, **env)
    assert result.returncode == EXIT_CONFIG
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"jacameno: {refusal('none')}"]


async def test_readyz_reports_the_schema_and_is_503_when_it_differs(
    start_api: Callable[..., Any], db_url: str
) -> None:
    head = head_revision()
    async with start_api() as (_server, api):
        ready = await api.call("GET", "/readyz")
        await set_revision(db_url, "0001")
        behind = await api.call("GET", "/readyz")
        await set_revision(db_url, head)
        again = await api.call("GET", "/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["schema"] == {"status": "ok", "current": head, "head": head}
    assert behind.status_code == 503
    assert behind.json()["checks"]["schema"] == {
        "status": "error",
        "current": "0001",
        "head": head,
        "error": refusal("0001"),
    }
    assert again.status_code == 200
