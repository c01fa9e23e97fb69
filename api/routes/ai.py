"""``POST /api/v1/ai/mixing | mastering | coaching``: queue an audio job (editor or owner).

The request becomes a ``queued`` entry in the project document's ``jobs`` map (the
same entry a client or bot may write itself) plus its database row; the job runner
picks it up from the document. The answer is 202 with the job; an identical job
still queued or running is returned instead (``reused: true``). Rate limited per
caller (``JACAMENO_RATE_LIMIT_AI_USER``), and refused with 429 while the caller has
``JACAMENO_JOB_MAX_ACTIVE_PER_USER`` jobs queued or running (that job's entry is
failed with the reason).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.audio_schemas import CoachingRequest, JobOut, MasteringRequest, MixingRequest
from jacameno.api.http import ApiRoute, Handler, json_response, read_body
from jacameno.api.jobs import queue_job
from jacameno.api.routes.jobs import job_out
from jacameno.api.services import require_principal, services_of


def _endpoint(kind: str, model: type[BaseModel]) -> Handler:
    async def request_job(request: Request) -> Response:
        services = services_of(request)
        body = await read_body(request, model)
        values: dict[str, Any] = body.model_dump(exclude_none=True)
        project_id = values.pop("project_id")
        async with services.database.session() as session:
            principal = await require_principal(request, session)
        job, reused = await queue_job(services, principal, project_id, kind, values)
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
