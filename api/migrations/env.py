"""Alembic environment: runs on the connection handed in by :mod:`api.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from jacameno.api.db.migrate import TARGET_METADATA


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=TARGET_METADATA,
        # SQLite cannot ALTER most things in place: batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `jacameno db upgrade`")
run_migrations(context.config.attributes["connection"])
