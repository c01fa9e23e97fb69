"""Quarantine for stored document updates that cannot be applied.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("room", sa.String(length=64), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("doc_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_doc_quarantine_room", ["room"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("doc_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_doc_quarantine_room")
    op.drop_table("doc_quarantine")
