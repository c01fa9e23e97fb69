"""Requesting work from the audio and AI services, the same way for REST and GraphQL.

Audio jobs (mixing, mastering, coaching) go to the job coordinator, which writes
the ``queued`` entry into the project document and its row; the runner takes it
from there. Lyrics jobs are recorded as queued rows: the lyrics service arrives
with its own issue, and picks them up then.

A duplicate request while an identical job is still queued or running returns
that job (``reused``) instead of queuing the work again. A caller over its AI rate
limit, or with ``JACAMENO_JOB_MAX_ACTIVE_PER_USER`` jobs queued or running, is
answered 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from jacameno.api.auth.permissions import require_project_role
from jacameno.api.auth.principal import Principal
from jacameno.api.db.models import Job, JobState, ProjectRole
from jacameno.api.errors import NotFoundError, ValidationFailedError
from jacameno.api.http import validation_details
from jacameno.api.services import AppServices

#: Kinds the audio job runner executes.
AUDIO_KINDS = frozenset({"mixing", "mastering", "coaching"})


class LyricsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=2000)
    style: str | None = Field(default=None, max_length=100)
    language: str = Field(default="en", min_length=2, max_length=16)


def input_hash(project_id: str, kind: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([project_id, kind, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def queue_job(
    services: AppServices,
    principal: Principal,
    project_id: str,
    kind: str,
    params: dict[str, Any],
) -> tuple[Job, bool]:
    """Check the caller may edit, count it against its AI rate limit, queue the job.

    Returns the job row and whether an identical live job was reused. Raises 422
    when the project lacks what the job needs (no tracks to mix, no mix to master),
    429 when the caller has too many audio jobs queued or running.
    """
    async with services.database.session() as session:
        await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
    await services.rate_limits.hit("ai_user", principal.actor)
    if kind in AUDIO_KINDS:
        # A refusal (429) or audio that cannot be processed (422) answers through the
        # error table (api.error_table).
        job_id, reused = await services.jobs.request(project_id, kind, params, principal.actor)
        async with services.database.session() as session:
            job = await session.get(Job, job_id)
        if job is None:
            raise NotFoundError("the job vanished; request it again")
        return job, reused
    if kind != "lyrics":
        raise ValidationFailedError(f"unknown job kind {kind!r}")
    return await _queue_lyrics(services, principal, project_id, params)


async def _queue_lyrics(
    services: AppServices, principal: Principal, project_id: str, params: dict[str, Any]
) -> tuple[Job, bool]:
    try:
        checked = LyricsParams.model_validate(params).model_dump(mode="json")
    except ValidationError as exc:
        raise ValidationFailedError(
            "invalid parameters for a lyrics job", details=validation_details(exc)
        ) from None
    digest = input_hash(project_id, "lyrics", checked)
    async with services.database.session() as session:
        existing = (
            await session.execute(
                select(Job)
                .where(
                    Job.project_id == project_id,
                    Job.kind == "lyrics",
                    Job.input_hash == digest,
                    Job.status.in_([JobState.QUEUED.value, JobState.RUNNING.value]),
                )
                .order_by(Job.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing, True
        job = Job(
            project_id=project_id,
            kind="lyrics",
            status=JobState.QUEUED.value,
            params=checked,
            input_hash=digest,
            requested_by=principal.actor,
        )
        session.add(job)
        await session.flush()
    return job, False
