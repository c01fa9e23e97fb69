"""Requesting work from the audio and AI services: one queued job row per distinct request.

A duplicate request (same project, kind and parameters) while an earlier one is
still queued or running returns that job instead of queuing the work again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.db.models import Job, JobState
from api.errors import ValidationFailedError
from api.http import validation_details


class JobParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LyricsParams(JobParams):
    prompt: str = Field(min_length=1, max_length=2000)
    style: str | None = Field(default=None, max_length=100)
    language: str = Field(default="en", min_length=2, max_length=16)


class MixParams(JobParams):
    preset: str = Field(default="pop", min_length=1, max_length=32)


class MasterParams(JobParams):
    preset: str = Field(default="streaming", min_length=1, max_length=32)
    target_lufs: float | None = Field(default=None, ge=-30.0, le=-5.0)
    ceiling_dbtp: float | None = Field(default=None, ge=-6.0, le=0.0)


PARAMS_BY_KIND: dict[str, type[JobParams]] = {
    "lyrics": LyricsParams,
    "mixing": MixParams,
    "mastering": MasterParams,
}


def input_hash(project_id: str, kind: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([project_id, kind, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def request_job(
    session: AsyncSession,
    *,
    project_id: str,
    kind: str,
    params: dict[str, Any],
    requested_by: str,
) -> Job:
    """Validate ``params`` for ``kind`` and queue the job, or return its live duplicate."""
    try:
        checked = PARAMS_BY_KIND[kind].model_validate(params).model_dump(mode="json")
    except ValidationError as exc:
        raise ValidationFailedError(
            f"invalid parameters for a {kind} job", details=validation_details(exc)
        ) from None
    digest = input_hash(project_id, kind, checked)
    existing = (
        await session.execute(
            select(Job)
            .where(
                Job.project_id == project_id,
                Job.kind == kind,
                Job.input_hash == digest,
                Job.status.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
            )
            .order_by(Job.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    job = Job(
        project_id=project_id,
        kind=kind,
        status=JobState.QUEUED.value,
        params=checked,
        input_hash=digest,
        requested_by=requested_by,
    )
    session.add(job)
    await session.flush()
    return job
