"""Analytics events of a project, for its owners."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import require_project_role
from jacameno.api.db.models import AnalyticsEvent, ProjectRole
from jacameno.api.http import ApiRoute, json_response, read_query
from jacameno.api.schemas import AnalyticsEventOut, AnalyticsPage, AnalyticsQuery
from jacameno.api.services import require_principal, services_of


async def list_events(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    query = read_query(request, AnalyticsQuery)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        base = select(AnalyticsEvent).where(AnalyticsEvent.project_id == project_id)
        if query.kind:
            base = base.where(AnalyticsEvent.kind == query.kind)
        total = (
            await session.execute(select(func.count()).select_from(base.subquery()))
        ).scalar_one()
        events = (
            await session.execute(
                base.order_by(AnalyticsEvent.id.desc()).limit(query.limit).offset(query.offset)
            )
        ).scalars()
        items = [AnalyticsEventOut.model_validate(event) for event in events]
    return json_response(
        AnalyticsPage(items=items, total=total, limit=query.limit, offset=query.offset)
    )


routes = [
    ApiRoute(
        "/api/v1/projects/{project_id}/analytics",
        list_events,
        method="GET",
        summary="Analytics events of a project, newest first (owner only)",
        tag="analytics",
        query=AnalyticsQuery,
        response=AnalyticsPage,
        errors=(401, 403, 404, 422),
    ),
]
