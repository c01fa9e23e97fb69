"""``GET /api/v1/jobs/{id}``: a job's status, progress, result or error (viewer or better)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.audio_schemas import JobOut
from jacameno.api.auth.permissions import require_row_in_project
from jacameno.api.db.models import Job, ProjectRole
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.services import require_principal, services_of


def job_out(job: Job, *, reused: bool = False) -> JobOut:
    return JobOut(
        id=job.id,
        project_id=job.project_id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        params=job.params or {},
        result=job.result,
        error=job.error,
        attempts=job.attempts,
        requested_by=job.requested_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        reused=reused,
    )


async def get_job(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        job = await require_row_in_project(
            session, principal, Job, request.path_params["job_id"], ProjectRole.VIEWER, what="job"
        )
    return json_response(job_out(job))


routes = [
    ApiRoute(
        "/api/v1/jobs/{job_id}",
        get_job,
        method="GET",
        summary="A job: status, progress, result or error",
        tag="audio",
        response=JobOut,
        errors=(401, 403, 404),
    ),
]
