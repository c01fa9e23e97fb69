"""Projects: create, list (the caller's, paginated), read, update, delete (owner only)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.analytics import EventKind, record_event
from jacameno.api.asset_store import project_folder
from jacameno.api.auth.permissions import require_project_role, require_user, visible_projects
from jacameno.api.auth.principal import UserPrincipal
from jacameno.api.db.models import Asset, Membership, Project, ProjectRole
from jacameno.api.errors import NotFoundError, ServiceUnavailableError, ValidationFailedError
from jacameno.api.http import ApiRoute, json_response, read_body, read_query
from jacameno.api.schemas import (
    ProjectCreate,
    ProjectOut,
    ProjectPage,
    ProjectQuery,
    ProjectUpdate,
)
from jacameno.api.services import AppServices, require_principal, services_of
from jacameno.collab.errors import CollabError
from jacameno.docs_model import ProjectDocument
from jacameno.docs_model.schema import DEFAULT_BPM, DEFAULT_TIME_SIGNATURE


def project_out(project: Project, role: ProjectRole | str) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        name=project.name,
        description=project.description,
        role=ProjectRole(role),
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


async def initialise_document(
    services: AppServices,
    project_id: str,
    title: str,
    *,
    bpm: float = DEFAULT_BPM,
    key: str | None = None,
    time_signature: str = DEFAULT_TIME_SIGNATURE,
) -> None:
    """Create the project's CRDT document: meta with ``schema_version``, the title,
    tempo (beats per minute), key and time signature."""
    try:
        async with services.rooms.document(project_id, origin="service:api") as doc:
            ProjectDocument(doc).initialise(
                title=title,
                bpm=bpm,
                key=key,
                time_signature=time_signature,
                origin="service:api",
            )
    except CollabError as exc:
        # Not just translated: the project row is committed by now, which the caller
        # must know and the generic 503 of api.error_table cannot say.
        raise ServiceUnavailableError(
            "the project was created but its document store is unavailable; it will be"
            " initialised on first use"
        ) from exc


async def create_owned_project(
    services: AppServices, user: UserPrincipal, body: ProjectCreate
) -> Project:
    """Create ``body``'s project owned by ``user``, and its document with the tempo, key
    and time signature (REST and GraphQL alike)."""
    async with services.database.session() as session:
        project = Project(name=body.name, description=body.description, created_by=user.user_id)
        session.add(project)
        await session.flush()
        session.add(
            Membership(project_id=project.id, user_id=user.user_id, role=ProjectRole.OWNER.value)
        )
        record_event(
            session, EventKind.PROJECT_CREATED, project_id=project.id, user_id=user.user_id
        )
    await initialise_document(
        services,
        project.id,
        project.name,
        bpm=body.bpm,
        key=body.key,
        time_signature=body.time_signature,
    )
    return project


async def create_project(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, ProjectCreate)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
    project = await create_owned_project(services, user, body)
    return json_response(project_out(project, ProjectRole.OWNER), 201)


async def list_projects(request: Request) -> Response:
    services = services_of(request)
    page = read_query(request, ProjectQuery)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        rows, total = await visible_projects(
            session, principal, limit=page.limit, offset=page.offset, search=page.q or None
        )
        items = [project_out(project, role) for project, role in rows]
    return json_response(
        ProjectPage(items=items, total=total, limit=page.limit, offset=page.offset)
    )


async def get_project(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        role = await require_project_role(session, principal, project_id, ProjectRole.VIEWER)
        project = await session.get(Project, project_id)
        assert project is not None
    return json_response(project_out(project, role))


async def update_project(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, ProjectUpdate)
    changes = body.model_dump(exclude_none=True)
    if not changes:
        raise ValidationFailedError("nothing to change: send name and/or description")
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        role = await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
        project = await session.get(Project, project_id)
        assert project is not None
        for field, value in changes.items():
            setattr(project, field, value)
        await session.flush()
        await session.refresh(project)
    return json_response(project_out(project, role))


async def delete_project(request: Request) -> Response:
    """Delete the project and everything of it (owner only); see :func:`delete_project_data`."""
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
    await delete_project_data(services, project_id)
    return Response(status_code=204)


async def delete_project_data(services: AppServices, project_id: str) -> None:
    """Delete a project and everything of it (the caller checked who may).

    Its rows go first (versions, assets, jobs, members, invites and keys cascade),
    in one transaction; then every open socket to it closes (4404) and its
    document (update log, snapshot, quarantine) is deleted; then every stored
    object under the project's folder (uploads, renders, waveforms, analyses), on
    local disk or S3. A failure after the rows are gone leaves orphaned bytes,
    never dangling rows, and retrying answers 404.
    """
    async with services.database.session() as session:
        keys = list(
            (
                await session.execute(
                    select(Asset.storage_key).where(Asset.project_id == project_id)
                )
            ).scalars()
        )
        project = await session.get(Project, project_id)
        if project is None:
            raise NotFoundError(f"no project {project_id}")
        await session.delete(project)
    try:
        await services.live.project_deleted(project_id)
    except CollabError as exc:
        # Not just translated: the project's rows are gone by now, which the caller
        # must know and the generic 503 of api.error_table cannot say.
        raise ServiceUnavailableError(
            "the project was deleted but its document could not be removed yet"
        ) from exc
    await services.store.delete_prefix(project_folder(project_id))
    for key in keys:  # assets stored outside the project's folder, if any
        if not key.startswith(project_folder(project_id) + "/"):
            await services.store.delete(key)


routes = [
    ApiRoute(
        "/api/v1/projects",
        create_project,
        method="POST",
        summary="Create a project",
        tag="projects",
        body=ProjectCreate,
        response=ProjectOut,
        status=201,
        errors=(400, 401, 403, 422),
    ),
    ApiRoute(
        "/api/v1/projects",
        list_projects,
        method="GET",
        summary="The caller's projects, newest first",
        tag="projects",
        query=ProjectQuery,
        response=ProjectPage,
        errors=(401, 422),
    ),
    ApiRoute(
        "/api/v1/projects/{project_id}",
        get_project,
        method="GET",
        summary="A project",
        tag="projects",
        response=ProjectOut,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        "/api/v1/projects/{project_id}",
        update_project,
        method="PATCH",
        summary="Rename or describe a project (editor or owner)",
        tag="projects",
        body=ProjectUpdate,
        response=ProjectOut,
        errors=(400, 401, 403, 404, 422),
    ),
    ApiRoute(
        "/api/v1/projects/{project_id}",
        delete_project,
        method="DELETE",
        summary="Delete a project (owner only)",
        tag="projects",
        status=204,
        errors=(401, 403, 404),
    ),
]
