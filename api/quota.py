"""Storage quota per user: the bytes of the assets a user created (uploads, and the
renders, masters and pitch curves their jobs produced).

A bot's assets count against the user who created its API key. Sidecars
(waveform peaks, analysis JSON) are derived data and do not count. Races are
settled by inserting first and counting after: an asset that takes its owner
past the quota is deleted again, so two uploads at once can never both slip in.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.db.models import Asset

_MB = 1024 * 1024


async def used_bytes(session: AsyncSession, user_id: str) -> int:
    """Bytes of every asset ``user_id`` created."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Asset.size_bytes), 0)).where(Asset.created_by == user_id)
    )
    return int(total or 0)


class StorageQuota:
    """``quota_mb`` per user (0: no quota)."""

    def __init__(self, quota_mb: int) -> None:
        self.quota_bytes = quota_mb * _MB

    @property
    def enabled(self) -> bool:
        return self.quota_bytes > 0

    async def room_left(self, session: AsyncSession, user_id: str | None) -> int | None:
        """Bytes ``user_id`` may still store; None when unlimited (no quota, no owner)."""
        if not self.enabled or user_id is None:
            return None
        return self.quota_bytes - await used_bytes(session, user_id)

    def describe(self, used: int) -> str:
        """The quota and its use, for messages."""
        return f"{used / _MB:.1f} MB of the {self.quota_bytes / _MB:.0f} MB storage quota used"
