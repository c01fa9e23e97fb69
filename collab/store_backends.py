"""Picks the document store for a database: SQLite or PostgreSQL, from the engine's URL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from jacameno.collab.postgres_store import PostgresDocumentStore
from jacameno.collab.sql_store import SQLStoreBase
from jacameno.collab.sqlite_store import SQLiteDocumentStore
from jacameno.collab.store import StoreTuning


def create_document_store(engine: AsyncEngine, tuning: StoreTuning | None = None) -> SQLStoreBase:
    """The store for ``engine``'s database; open it with ``async with`` (the SQLite store
    runs its WAL checkpoints on a thread it owns while open) and keep it open while rooms
    use it."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        return SQLiteDocumentStore(engine, tuning)
    if backend == "postgresql":
        return PostgresDocumentStore(engine, tuning)
    raise ValueError(
        f"no document store for {backend!r} databases: use a sqlite+aiosqlite:// or "
        "postgresql+asyncpg:// database URL"
    )
