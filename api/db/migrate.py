"""Apply Alembic migrations from code (``jacameno db upgrade``, start-up, tests).

:func:`require_current_schema` is the start-up check: ``serve`` refuses a database
whose schema is not the one the code was written for (:class:`SchemaMismatchError`,
a :class:`~api.settings.SettingsError`: one line, exit status 2).
"""

from __future__ import annotations

import functools
from pathlib import Path

import anyio
import structlog
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import String, column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from jacameno.api.db.engine import create_engine
from jacameno.api.db.models import Base
from jacameno.api.settings import SettingsError
from jacameno.collab.sql_tables import collab_metadata

log = structlog.get_logger("jacameno.db")

#: Everything the migrations create: the API's models and the collaboration tables.
TARGET_METADATA = [Base.metadata, collab_metadata]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


#: Seconds the start-up check waits for the database before letting ``/readyz`` judge.
SCHEMA_CHECK_TIMEOUT_S = 10.0
#: Alembic's bookkeeping table (one row: the revision the database is at).
VERSION_TABLE = "alembic_version"


class SchemaMismatchError(SettingsError):
    """The database's schema revision is not the code's head; the message names the fix."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        if current is not None and not is_known_revision(current):
            message = (
                f"the database schema is at revision {current}, which this code does not know"
                f" (its newest is {head}): run the version of JACAMENO that migrated it"
            )
        else:
            message = (
                f"the database schema is at revision {current or 'none'}, the code needs"
                f" {head}: run 'jacameno db upgrade'"
            )
        super().__init__(message)


@functools.cache
def head_revision() -> str:
    """The newest migration of this code (read once: it is part of the installed code)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is in this code's migration history."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _read_revision(connection: Connection) -> str | None:
    # Read the table directly: alembic's MigrationContext logs two lines per call,
    # and /readyz asks on every probe.
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    version_num = column("version_num", String)
    rows = connection.execute(select(version_num).select_from(table(VERSION_TABLE))).scalars()
    return ",".join(sorted(rows)) or None


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database behind ``engine`` is at, or None when never migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_read_revision)


async def require_current_schema(engine: AsyncEngine) -> None:
    """Raise :class:`SchemaMismatchError` unless the database is at :func:`head_revision`.

    A database that cannot be read (down, unreachable, no answer within
    :data:`SCHEMA_CHECK_TIMEOUT_S`) is let through with a warning: ``/readyz``
    reports it, and the server serves once it answers. Only a schema known to be
    wrong stops start-up.
    """
    try:
        with anyio.fail_after(SCHEMA_CHECK_TIMEOUT_S):
            current = await schema_revision(engine)
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        log.warning("schema revision unreadable at start-up", error=f"{type(exc).__name__}: {exc}")
        return
    if current != head_revision():
        raise SchemaMismatchError(current, head_revision())


async def _run(url: str, action: str, revision: str) -> None:
    config = alembic_config()
    engine = create_engine(url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    await _run(url, "upgrade", revision)


async def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    await _run(url, "downgrade", revision)


async def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = create_engine(url)
    try:
        return await schema_revision(engine)
    finally:
        await engine.dispose()
