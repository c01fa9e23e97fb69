"""Named versions of a project document: name, list, compare, restore.

A version is the binary Yjs state of the document when it was named (never JSON). A
restore is a *forward* edit (``docs_model.restore_to``) written through the room with
the origin ``service:versions``: every connected peer receives it as an ordinary update,
and edits made meanwhile, online or offline, merge on top of it. Before a restore that
changes anything, the state it replaces is kept as a version too, so a restore can be
undone by restoring that one.

Two restores of one project running at the same moment are not serialised: each edits
from the state it read, and their edits merge as any concurrent edits do.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import row_of_project
from jacameno.api.auth.principal import Principal
from jacameno.api.db.models import ProjectRole, Version
from jacameno.api.document_schemas import (
    RestoreOut,
    VersionDetail,
    VersionIn,
    VersionOut,
    VersionPage,
    VersionQuery,
)
from jacameno.api.http import ApiRoute, json_response, read_body, read_query
from jacameno.api.routes.documents import (
    document_state,
    document_view,
    require_role,
    stored_document,
)
from jacameno.api.schemas import PageQuery
from jacameno.api.services import AppServices, services_of
from jacameno.docs_model import diff_summary, restore_to

#: Transaction origin of restores (peers and services can tell them apart).
VERSIONS_ORIGIN = "service:versions"
_NAME_LIMIT = 200


def version_out(row: Version) -> VersionOut:
    return VersionOut(
        id=row.id, name=row.name, created_by=row.created_by, created_at=row.created_at
    )


async def _load_version(session: AsyncSession, project_id: str, version_id: str) -> Version:
    return await row_of_project(session, Version, version_id, project_id, what="version")


async def _store_version(
    services: AppServices, project_id: str, name: str, state: bytes, created_by: str
) -> Version:
    async with services.database.session() as session:
        row = Version(project_id=project_id, name=name, state=state, created_by=created_by)
        session.add(row)
        await session.flush()
        await session.refresh(row)
    return row


async def name_version(
    services: AppServices, principal: Principal, project_id: str, name: str
) -> VersionOut:
    """Store the document's current state as a version called ``name`` (caller checked)."""
    state = await document_state(services, project_id)
    return version_out(await _store_version(services, project_id, name, state, principal.actor))


async def restore_version(
    services: AppServices, principal: Principal, project_id: str, version_id: str
) -> RestoreOut:
    """Bring the document back to a version as a forward edit (caller checked)."""
    async with services.database.session() as session:
        row = await _load_version(session, project_id, version_id)
        version, state = version_out(row), row.state
    stored_document(state)  # unreadable version bytes: 409 before anything is written
    async with services.rooms.document(project_id, origin=VERSIONS_ORIGIN) as doc:
        before = doc.get_update()
        changed = restore_to(doc, state, origin=VERSIONS_ORIGIN)
        changes = diff_summary(stored_document(before), doc)
    backup_id = None
    if changed:
        name = f"Before restoring “{version.name}”"[:_NAME_LIMIT]
        backup = await _store_version(services, project_id, name, before, principal.actor)
        backup_id = backup.id
    return RestoreOut(version=version, changes=changes, backup_version_id=backup_id)


async def create_version(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, VersionIn)
    principal = await require_role(services, request, project_id, ProjectRole.EDITOR)
    return json_response(await name_version(services, principal, project_id, body.name), 201)


async def list_versions(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    page = read_query(request, PageQuery)
    await require_role(services, request, project_id, ProjectRole.VIEWER)
    async with services.database.session() as session:
        total = (
            await session.execute(
                select(func.count()).select_from(Version).where(Version.project_id == project_id)
            )
        ).scalar_one()
        rows = await session.execute(
            select(Version.id, Version.name, Version.created_by, Version.created_at)
            .where(Version.project_id == project_id)
            .order_by(Version.created_at.desc(), Version.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        items = [
            VersionOut(id=r.id, name=r.name, created_by=r.created_by, created_at=r.created_at)
            for r in rows
        ]
    return json_response(
        VersionPage(items=items, total=total, limit=page.limit, offset=page.offset)
    )


async def get_version(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    query = read_query(request, VersionQuery)
    await require_role(services, request, project_id, ProjectRole.VIEWER)
    async with services.database.session() as session:
        row = await _load_version(session, project_id, request.path_params["version_id"])
        version, state = version_out(row), row.state
    current = await document_state(services, project_id)
    changes = diff_summary(stored_document(state), stored_document(current))
    document = document_view(project_id, state).document if query.document else None
    return json_response(VersionDetail(**version.model_dump(), changes=changes, document=document))


async def post_restore(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    principal = await require_role(services, request, project_id, ProjectRole.EDITOR)
    version_id = request.path_params["version_id"]
    return json_response(await restore_version(services, principal, project_id, version_id))


_BASE = "/api/v1/projects/{project_id}/versions"

routes = [
    ApiRoute(
        _BASE,
        create_version,
        method="POST",
        summary="Name the document's current state (editor or owner)",
        tag="versions",
        body=VersionIn,
        response=VersionOut,
        status=201,
        errors=(400, 401, 403, 404, 415, 422, 503),
    ),
    ApiRoute(
        _BASE,
        list_versions,
        method="GET",
        summary="The project's named versions, newest first",
        tag="versions",
        query=PageQuery,
        response=VersionPage,
        errors=(401, 403, 404, 422),
    ),
    ApiRoute(
        _BASE + "/{version_id}",
        get_version,
        method="GET",
        summary="A version and what changed since it",
        tag="versions",
        query=VersionQuery,
        response=VersionDetail,
        errors=(401, 403, 404, 409, 422, 503),
    ),
    ApiRoute(
        _BASE + "/{version_id}/restore",
        post_restore,
        method="POST",
        summary="Restore a version as a forward edit every peer receives (editor or owner)",
        tag="versions",
        response=RestoreOut,
        errors=(401, 403, 404, 409, 503),
    ),
]
