"""``POST /api/v1/ai/mixing | mastering | coaching``: queue an audio job (editor or owner).

The request becomes a ``queued`` entry in the project document's ``jobs`` map (the
same entry a client or bot may write itself) plus its database row; the job runner
picks it up from the document. The answer is 202 with the job; an identical job
still queued or running is returned instead (``reused: true``). Rate limited per
caller (``JACAMENO_RATE_LIMIT_AI_USER``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from api.auth.permissions import require_project_role
from api.db.models import Job, ProjectRole
from api.errors import NotFoundError, ValidationFailedError
from api.http import ApiRoute, Handler, json_response, read_body
from api.routes.jobs import job_out
from api.schemas import CoachingRequest, JobOut, MasteringRequest, MixingRequest
from api.services import require_principal, services_of
from audio_services.errors import AudioError


def _endpoint(kind: str, model: type[BaseModel]) -> Handler:
    async def request_job(request: Request) -> Response:
        services = services_of(request)
        body = await read_body(request, model)
        values: dict[str, Any] = body.model_dump(exclude_none=True)
        project_id = values.pop("project_id")
        async with services.database.session() as session:
            principal = await require_principal(request, session)
            await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
        await services.rate_limits.hit("ai_user", principal.actor)
        try:
            job_id, reused = await services.jobs.request(project_id, kind, values, principal.actor)
        except AudioError as exc:
            raise ValidationFailedError(str(exc)) from None
        async with services.database.session() as session:
            job = await session.get(Job, job_id)
            if job is None:
                raise NotFoundError("the job vanished; request it again")
        return json_response(job_out(job, reused=reused), 202)

    request_job.__name__ = f"request_{kind}"
    return request_job


routes = [
    ApiRoute(
        f"/api/v1/ai/{kind}",
        _endpoint(kind, model),
        method="POST",
        summary=summary,
        tag="audio",
        body=model,
        response=JobOut,
        status=202,
        errors=(400, 401, 403, 404, 415, 422, 429),
    )
    for kind, model, summary in (
        ("mixing", MixingRequest, "Mix the project's tracks into a stereo render"),
        ("mastering", MasteringRequest, "Master the latest mix (or an asset)"),
        ("coaching", CoachingRequest, "Coach a vocal track: intonation, timing, phrasing"),
    )
]
