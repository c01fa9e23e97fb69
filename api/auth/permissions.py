"""The one permission check used by REST routes, GraphQL resolvers and the WebSocket route."""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import ApiKeyPrincipal, Principal, UserPrincipal
from api.db.models import Membership, Project, ProjectRole
from api.errors import ForbiddenError, NotFoundError

_RANK = {ProjectRole.VIEWER: 1, ProjectRole.EDITOR: 2, ProjectRole.OWNER: 3}


def role_allows(role: ProjectRole, required: ProjectRole) -> bool:
    """True when ``role`` is at least ``required`` (owner > editor > viewer)."""
    return _RANK[role] >= _RANK[required]


async def project_role(
    session: AsyncSession, principal: Principal, project_id: str
) -> ProjectRole | None:
    """The principal's role in the project, or None when it has none."""
    if isinstance(principal, ApiKeyPrincipal):
        return principal.role if principal.project_id == project_id else None
    role = (
        await session.execute(
            select(Membership.role).where(
                Membership.project_id == project_id, Membership.user_id == principal.user_id
            )
        )
    ).scalar_one_or_none()
    return ProjectRole(role) if role is not None else None


async def require_project_role(
    session: AsyncSession, principal: Principal, project_id: str, required: ProjectRole
) -> ProjectRole:
    """Return the principal's role in ``project_id`` if it is at least ``required``.

    A user who is not a member gets 404 (the project's existence is not revealed);
    a member, or an API key, below the required role gets 403; an API key used on
    another project gets 403 naming its scope.
    """
    if isinstance(principal, ApiKeyPrincipal) and principal.project_id != project_id:
        raise ForbiddenError("this API key is scoped to another project")
    exists = await session.get(Project, project_id)
    role = await project_role(session, principal, project_id) if exists else None
    if role is None:
        raise NotFoundError("project not found")
    if not role_allows(role, required):
        raise ForbiddenError(
            f"this needs the {required.value} role in the project; you are {role.value}",
            details={"required": required.value, "role": role.value},
        )
    return role


def require_user(principal: Principal) -> UserPrincipal:
    """Account operations are for people, not API keys."""
    if not isinstance(principal, UserPrincipal):
        raise ForbiddenError("API keys cannot do this; sign in as a user")
    return principal


async def visible_projects(
    session: AsyncSession, principal: Principal, *, limit: int, offset: int
) -> tuple[list[tuple[Project, ProjectRole]], int]:
    """The projects ``principal`` may see with its role in each, newest first, and their total.

    A user sees the projects it is a member of; an API key sees its one project.
    """
    if isinstance(principal, ApiKeyPrincipal):
        project = await session.get(Project, principal.project_id)
        everything = [(project, principal.role)] if project else []
        return everything[offset : offset + limit], len(everything)
    base = (
        select(Project, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == principal.user_id)
    )
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = await session.execute(
        base.order_by(Project.created_at.desc(), Project.id).limit(limit).offset(offset)
    )
    return [(project, ProjectRole(role)) for project, role in rows], total


class _InProject(Protocol):
    project_id: str


RowT = TypeVar("RowT", bound=_InProject)


async def require_row_in_project(
    session: AsyncSession,
    principal: Principal,
    model: type[RowT],
    row_id: str,
    required: ProjectRole,
    *,
    what: str,
) -> RowT:
    """Load a project's row (an asset, a job...) by id if the principal has ``required`` there.

    A missing row and a row of a project the caller cannot see are both 404.
    """
    row = await session.get(model, row_id)
    if row is None:
        raise NotFoundError(f"{what} not found")
    await require_project_role(session, principal, row.project_id, required)
    return row


async def row_of_project(
    session: AsyncSession, model: type[RowT], row_id: str, project_id: str, *, what: str
) -> RowT:
    """A row by id that belongs to ``project_id`` (whose role the caller has checked).

    A missing row and a row of another project are both 404 ``no such {what}``.
    """
    row = await session.get(model, row_id)
    if row is None or row.project_id != project_id:
        raise NotFoundError(f"no such {what}")
    return row
