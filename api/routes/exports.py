"""``POST /api/v1/projects/{id}/exports``: export the project for other tools (editor+).

The export runs as a job (``kind: "export"`` in the document's ``jobs`` map, like a
mix): 202 with the job; its result names the zip asset (``export_asset_id``), which
``GET /api/v1/assets/{id}`` offers for download. Counted against the AI rate limit
and the job cap like the audio jobs; the zip counts against the storage quota.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.audio_schemas import ExportRequest, JobOut
from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.jobs import queue_job
from jacameno.api.routes.jobs import job_out
from jacameno.api.services import require_principal, services_of


async def request_export(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, ExportRequest)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
    project_id = request.path_params["project_id"]
    job, reused = await queue_job(
        services, principal, project_id, "export", body.model_dump(mode="json")
    )
    return json_response(job_out(job, reused=reused), 202)


routes = [
    ApiRoute(
        "/api/v1/projects/{project_id}/exports",
        request_export,
        method="POST",
        summary="Export the project: every track's stem as arranged (a zip), or its MIDI",
        tag="audio",
        body=ExportRequest,
        response=JobOut,
        status=202,
        errors=(400, 401, 403, 404, 415, 422, 429),
    ),
]
