"""Requesting work from the audio and AI services, the same way for REST and GraphQL.

Jobs (mixing, mastering, coaching, lyrics) go to the job coordinator, which writes
the ``queued`` entry into the project document and its row; the runner takes it
from there (lyrics on the lyrics service, the rest on the DSP runner).

A duplicate request while an identical job is still queued or running returns
that job (``reused``) instead of queuing the work again. A caller over its AI rate
limit, or with ``JACAMENO_JOB_MAX_ACTIVE_PER_USER`` jobs queued or running, is
answered 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from jacameno.api.auth.actors import owner_of
from jacameno.api.auth.permissions import require_project_role
from jacameno.api.auth.principal import Principal
from jacameno.api.db.models import Job, ProjectRole
from jacameno.api.errors import NotFoundError, ValidationFailedError
from jacameno.api.http import validation_details
from jacameno.api.job_runtime import rate_rule_for
from jacameno.api.lyrics import LyricsIn
from jacameno.api.preset_memory import PRESET_KINDS, recommended_params, remember_choice
from jacameno.api.services import AppServices
from jacameno.audio_services.jobs.document import RUNNABLE_KINDS


class LyricsJobParams(LyricsIn):
    """A lyrics job's params: a lyrics request without its project (the job's)."""

    project_id: str = Field(default="", exclude=True)


async def queue_job(
    services: AppServices,
    principal: Principal,
    project_id: str,
    kind: str,
    params: dict[str, Any],
) -> tuple[Job, bool]:
    """Check the caller may edit, count it against its AI rate limit, queue the job.

    A mixing or mastering preset the caller names is remembered in their AI memory;
    one they leave out is filled in from it (:mod:`api.preset_memory`).

    Returns the job row and whether an identical live job was reused. Raises 422
    when the project lacks what the job needs (no tracks to mix, no mix to master),
    429 when the caller has too many audio jobs queued or running.
    """
    async with services.database.session() as session:
        await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
        user_id = await owner_of(session, principal.identity)
    await services.rate_limits.hit(rate_rule_for(kind), principal.actor)
    if kind == "lyrics":
        params = _lyrics_params(params)
    chosen = params.get("preset") if kind in PRESET_KINDS else None
    params = await recommended_params(services, user_id, project_id, kind, params)
    if kind in RUNNABLE_KINDS and kind != "analysis":
        # A refusal (429) or audio that cannot be processed (422) answers through the
        # error table (api.error_table).
        job_id, reused = await services.jobs.request(project_id, kind, params, principal.actor)
        async with services.database.session() as session:
            job = await session.get(Job, job_id)
        if job is None:
            raise NotFoundError("the job vanished; request it again")
        if isinstance(chosen, str) and not reused:
            await remember_choice(services, user_id, project_id, kind, chosen)
        return job, reused
    raise ValidationFailedError(f"unknown job kind {kind!r}")


def _lyrics_params(params: dict[str, Any]) -> dict[str, Any]:
    try:
        checked = LyricsJobParams.model_validate(params)
    except ValidationError as exc:
        raise ValidationFailedError(
            "invalid parameters for a lyrics job", details=validation_details(exc)
        ) from None
    return checked.model_dump(mode="json", exclude_none=True)
