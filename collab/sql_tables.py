"""Tables of the document update log and snapshots (SQLAlchemy Core).

``collab`` owns these tables; ``api``'s migrations create them alongside its own.
A document's state is its snapshot (one merged Yjs update) followed by every
logged update with a larger ``id`` than the snapshot's ``last_update_id``.
Stored updates that cannot be applied (written before the server checked every
update, or damaged) are moved to ``doc_quarantine`` with the reason, never
deleted.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
)

#: Metadata of the collaboration tables (``api`` adds it to its migration target).
collab_metadata = MetaData()

#: SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets a BIGINT identity.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

doc_updates = Table(
    "doc_updates",
    collab_metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("room", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_doc_updates_room_id", "room", "id"),
    # Ids must never be reused: compaction deletes up to an id and a snapshot records
    # it; SQLite would otherwise hand out max(rowid)+1 again after the delete.
    sqlite_autoincrement=True,
)

doc_snapshots = Table(
    "doc_snapshots",
    collab_metadata,
    Column("room", String(64), primary_key=True),
    Column("state", LargeBinary, nullable=False),
    Column("last_update_id", BigInteger, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

doc_quarantine = Table(
    "doc_quarantine",
    collab_metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("room", String(64), nullable=False, index=True),
    #: The ``doc_updates`` id it had, or None for a snapshot that failed to load.
    Column("update_id", BigInteger, nullable=True),
    Column("payload", LargeBinary, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    sqlite_autoincrement=True,
)
