"""The one permission check used by REST routes, GraphQL resolvers and the WebSocket route.

Whoever cannot see a row gets one answer: a missing row, a row of a project the caller
is not a member of, and a row of a project an API key is not scoped to are all
``404 {what} not found`` with no details, so ids cannot be probed for existence
(:func:`require_row_in_project`, :func:`row_of_project`). A member below the needed
role may see the row and gets 403. Addressed by project id, a stranger gets
``404 project not found`` and an API key of another project a 403 naming its scope;
neither depends on whether the project exists.

API keys act for bots: they never make invites (an invite outlives the key), and
they grant, change or remove only roles strictly below their own
(:func:`require_may_grant`, :func:`require_may_change`).
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.auth.principal import ApiKeyPrincipal, Principal, UserPrincipal
from jacameno.api.db.models import Membership, Project, ProjectRole
from jacameno.api.errors import ForbiddenError, NotFoundError

_RANK = {ProjectRole.VIEWER: 1, ProjectRole.EDITOR: 2, ProjectRole.OWNER: 3}


def role_allows(role: ProjectRole, required: ProjectRole) -> bool:
    """True when ``role`` is at least ``required`` (owner > editor > viewer)."""
    return _RANK[role] >= _RANK[required]


def roles_below(role: ProjectRole) -> tuple[ProjectRole, ...]:
    """The roles strictly below ``role`` (none below viewer)."""
    return tuple(other for other in ProjectRole if _RANK[other] < _RANK[role])


def not_found(what: str) -> NotFoundError:
    """The one answer for a row the caller cannot see, whether or not it exists."""
    return NotFoundError(f"{what} not found")


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


def _require_at_least(role: ProjectRole, required: ProjectRole) -> ProjectRole:
    if not role_allows(role, required):
        raise ForbiddenError(
            f"this needs the {required.value} role in the project; you are {role.value}",
            details={"required": required.value, "role": role.value},
        )
    return role


async def require_project_role(
    session: AsyncSession, principal: Principal, project_id: str, required: ProjectRole
) -> ProjectRole:
    """Return the principal's role in ``project_id`` if it is at least ``required``.

    A user who is not a member gets 404 (the project's existence is not revealed);
    a member, or an API key, below the required role gets 403; an API key used on
    another project gets 403 naming its scope, whether or not that project exists.
    """
    if isinstance(principal, ApiKeyPrincipal) and principal.project_id != project_id:
        raise ForbiddenError("this API key is scoped to another project")
    exists = await session.get(Project, project_id)
    role = await project_role(session, principal, project_id) if exists else None
    if role is None:
        raise not_found("project")
    return _require_at_least(role, required)


def require_user(principal: Principal) -> UserPrincipal:
    """Account operations are for people, not API keys."""
    if not isinstance(principal, UserPrincipal):
        raise ForbiddenError("API keys cannot do this; sign in as a user")
    return principal


def require_may_invite(principal: Principal) -> UserPrincipal:
    """Only people make invites: an invite outlives the API key that would have made it."""
    if not isinstance(principal, UserPrincipal):
        raise ForbiddenError(
            "API keys cannot create invites (an invite would outlive the key);"
            " an owner signed in as a user can invite people"
        )
    return principal


def changeable_roles(principal: Principal) -> tuple[ProjectRole, ...]:
    """The roles of members ``principal`` may change or remove (owners are checked by
    :func:`require_project_role`): every role for a person, those below its own for a key."""
    if isinstance(principal, ApiKeyPrincipal):
        return roles_below(principal.role)
    return tuple(ProjectRole)


def require_may_grant(principal: Principal, role: ProjectRole) -> None:
    """Refuse (403) an API key that grants ``role`` at or above its own: an owner key may
    grant editor or viewer, an editor key nothing."""
    if isinstance(principal, ApiKeyPrincipal) and role not in roles_below(principal.role):
        raise ForbiddenError(
            f"an API key can only grant roles below its own ({principal.role.value});"
            f" making someone {role.value} needs an owner signed in as a user",
            details={"role": role.value, "allowed": [r.value for r in roles_below(principal.role)]},
        )


def require_may_change(principal: Principal, member_role: ProjectRole) -> None:
    """Refuse (403) an API key that changes or removes a member whose role is at or above
    its own."""
    if isinstance(principal, ApiKeyPrincipal) and member_role not in roles_below(principal.role):
        raise ForbiddenError(
            "an API key can only change or remove members whose role is below its own"
            f" ({principal.role.value}); this member is {member_role.value}",
            details={
                "member_role": member_role.value,
                "allowed": [r.value for r in roles_below(principal.role)],
            },
        )


async def visible_projects(
    session: AsyncSession,
    principal: Principal,
    *,
    limit: int,
    offset: int,
    search: str | None = None,
) -> tuple[list[tuple[Project, ProjectRole]], int]:
    """The projects ``principal`` may see with its role in each, newest first, and their total.

    A user sees the projects it is a member of; an API key sees its one project.
    ``search`` keeps the projects whose name contains it, ignoring case.
    """
    needle = search.casefold() if search else None
    if isinstance(principal, ApiKeyPrincipal):
        project = await session.get(Project, principal.project_id)
        everything = [(project, principal.role)] if project else []
        if needle is not None:
            everything = [(p, r) for p, r in everything if needle in p.name.casefold()]
        return everything[offset : offset + limit], len(everything)
    base = (
        select(Project, Membership.role)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.user_id == principal.user_id)
    )
    if search:
        # LIKE wildcards in the search are literal text, not patterns.
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        base = base.where(func.lower(Project.name).like(f"%{escaped.lower()}%", escape="\\"))
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

    A missing row, a row of a project the caller is not a member of and a row of a
    project an API key is not scoped to are one answer, 404 ``{what} not found``; a
    caller who can see the row but lacks ``required`` gets 403.
    """
    row = await session.get(model, row_id)
    role = await project_role(session, principal, row.project_id) if row is not None else None
    if row is None or role is None:
        raise not_found(what)
    _require_at_least(role, required)
    return row


async def row_of_project(
    session: AsyncSession, model: type[RowT], row_id: str, project_id: str, *, what: str
) -> RowT:
    """A row by id that belongs to ``project_id`` (whose role the caller has checked).

    A missing row and a row of another project are one answer, 404 ``{what} not found``.
    """
    row = await session.get(model, row_id)
    if row is None or row.project_id != project_id:
        raise not_found(what)
    return row
