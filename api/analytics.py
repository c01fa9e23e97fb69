"""Product analytics: events recorded in the database, readable by project owners."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.db.models import AnalyticsEvent


class EventKind(StrEnum):
    SIGNUP = "signup"
    LOGIN = "login"
    PROJECT_CREATED = "project_created"
    MEMBER_ADDED = "member_added"
    TRACK_UPLOADED = "track_uploaded"
    JOB_FINISHED = "job_finished"


def record_event(
    session: AsyncSession,
    kind: EventKind,
    *,
    project_id: str | None = None,
    user_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Add an event to the session's transaction (it commits with the change it describes)."""
    session.add(
        AnalyticsEvent(kind=kind.value, project_id=project_id, user_id=user_id, data=data or {})
    )
