"""Single-use invites: by token (a link an owner shares) or by email (the invitee's list).

An owner creates an invite with a role; ``POST /api/v1/projects/{id}/members`` is the
same with the address required. The invitee accepts with the token
(``POST /api/v1/invites/{token}/accept``) or, when the invite names their email, from
``GET /api/v1/me/invites`` (``POST /api/v1/me/invites/{id}/accept``). Both routes take
the invite with one conditional update, so of any number of concurrent acceptances
exactly one joins (:mod:`api.auth.memberships`). Accepting never demotes an existing
member. Email addresses are not verified yet: an invite to an address reaches whoever
signed up with it.

Only people make invites: an API key's invite would outlive the key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.analytics import EventKind, record_event
from jacameno.api.auth.memberships import claim_invite, grant_role
from jacameno.api.auth.permissions import (
    not_found,
    require_may_invite,
    require_project_role,
    require_user,
    row_of_project,
)
from jacameno.api.auth.principal import Principal, UserPrincipal
from jacameno.api.auth.tokens import hash_secret, new_secret
from jacameno.api.db.models import Invite, Project, ProjectRole, User
from jacameno.api.errors import ApiError, ConflictError, ForbiddenError
from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.routes.projects import project_out
from jacameno.api.schemas import (
    InviteCreated,
    InviteIn,
    InviteList,
    InviteOut,
    PendingInviteList,
    PendingInviteOut,
    ProjectOut,
)
from jacameno.api.services import require_principal, services_of


class InviteGoneError(ApiError):
    status = 410
    code = "gone"


async def new_invite(
    session: AsyncSession,
    principal: Principal,
    project_id: str,
    role: ProjectRole,
    *,
    email: str | None,
    ttl_s: int,
) -> tuple[Invite, str]:
    """Store an invite and return it with its token (the caller checked the owner role).

    A new invite to an address replaces that address's pending ones in the project, so
    the invitee sees one. API keys are refused (403).
    """
    user = require_may_invite(principal)
    if email is not None:
        await session.execute(
            delete(Invite).where(
                Invite.project_id == project_id,
                Invite.email == email,
                Invite.accepted_at.is_(None),
            )
        )
    token = new_secret()
    invite = Invite(
        project_id=project_id,
        token_hash=hash_secret(token),
        role=role.value,
        email=email,
        created_by=user.user_id,
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s),
    )
    session.add(invite)
    await session.flush()
    return invite, token


async def _accept(
    session: AsyncSession, user: UserPrincipal, invite: Invite, via: str
) -> ProjectOut:
    """Join ``invite``'s project (the one path of both accept routes)."""
    now = datetime.now(UTC)
    if invite.accepted_at is not None:
        raise ConflictError("this invite has already been used")
    if invite.expires_at <= now:
        raise InviteGoneError("this invite has expired; ask for a new one")
    if invite.email is not None and invite.email != user.email:
        raise ForbiddenError("this invite is for another email address")
    if not await claim_invite(session, invite.id, user.user_id, now):
        raise ConflictError("this invite has already been used")
    role = await grant_role(session, invite.project_id, user.user_id, ProjectRole(invite.role))
    record_event(
        session,
        EventKind.MEMBER_ADDED,
        project_id=invite.project_id,
        user_id=user.user_id,
        data={"role": role.value, "via": via},
    )
    project = await session.get(Project, invite.project_id)
    assert project is not None, "the invite's row was claimed, so its project exists"
    return project_out(project, role)


async def create_invite(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, InviteIn)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        invite, token = await new_invite(
            session,
            principal,
            project_id,
            body.role,
            email=body.email,
            ttl_s=body.expires_in_s or services.settings.invite_ttl_s,
        )
        answer = InviteCreated(**InviteOut.model_validate(invite).model_dump(), token=token)
    return json_response(answer, 201)


async def list_invites(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        invites = (
            await session.execute(
                select(Invite).where(Invite.project_id == project_id).order_by(Invite.created_at)
            )
        ).scalars()
        items = [InviteOut.model_validate(invite) for invite in invites]
    return json_response(InviteList(items=items))


async def revoke_invite(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        invite = await row_of_project(
            session, Invite, request.path_params["invite_id"], project_id, what="invite"
        )
        await session.delete(invite)
    return Response(status_code=204)


async def accept_invite(request: Request) -> Response:
    """Join the project with the invite's role; the token works once, before it expires."""
    services = services_of(request)
    token_hash = hash_secret(request.path_params["token"])
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
        invite = (
            await session.execute(select(Invite).where(Invite.token_hash == token_hash))
        ).scalar_one_or_none()
        if invite is None:
            raise not_found("invite")
        answer = await _accept(session, user, invite, "invite")
    return json_response(answer)


async def list_my_invites(request: Request) -> Response:
    """Invites addressed to the caller's email that are neither accepted nor expired."""
    services = services_of(request)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
        rows = await session.execute(
            select(Invite, Project.name, User.display_name)
            .join(Project, Project.id == Invite.project_id)
            .outerjoin(User, User.id == Invite.created_by)
            .where(
                Invite.email == user.email,
                Invite.accepted_at.is_(None),
                Invite.expires_at > datetime.now(UTC),
            )
            .order_by(Invite.created_at.desc(), Invite.id)
        )
        items = [
            PendingInviteOut(
                id=invite.id,
                project_id=invite.project_id,
                project_name=project_name,
                role=ProjectRole(invite.role),
                invited_by=invited_by,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
            )
            for invite, project_name, invited_by in rows
        ]
    return json_response(PendingInviteList(items=items))


async def accept_my_invite(request: Request) -> Response:
    """Accept an invite addressed to the caller's email; any other id is 404."""
    services = services_of(request)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
        invite = (
            await session.execute(
                select(Invite).where(
                    Invite.id == request.path_params["invite_id"], Invite.email == user.email
                )
            )
        ).scalar_one_or_none()
        if invite is None:
            raise not_found("invite")
        answer = await _accept(session, user, invite, "email")
    return json_response(answer)


P = "/api/v1/projects/{project_id}"
routes = [
    ApiRoute(
        f"{P}/invites",
        create_invite,
        method="POST",
        summary="Create a single-use invite, optionally bound to an email (owner only;"
        " not with an API key; the token is shown once)",
        tag="invites",
        body=InviteIn,
        response=InviteCreated,
        status=201,
        errors=(400, 401, 403, 404, 422),
    ),
    ApiRoute(
        f"{P}/invites",
        list_invites,
        method="GET",
        summary="Invites (owner only)",
        tag="invites",
        response=InviteList,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        f"{P}/invites/{{invite_id}}",
        revoke_invite,
        method="DELETE",
        summary="Withdraw an invite (owner only)",
        tag="invites",
        status=204,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        "/api/v1/invites/{token}/accept",
        accept_invite,
        method="POST",
        summary="Accept an invite by its token (once; 409 when used, 410 when expired)",
        tag="invites",
        response=ProjectOut,
        errors=(401, 403, 404, 409, 410),
    ),
    ApiRoute(
        "/api/v1/me/invites",
        list_my_invites,
        method="GET",
        summary="Pending invites addressed to your email, with project name and role",
        tag="invites",
        response=PendingInviteList,
        errors=(401, 403),
    ),
    ApiRoute(
        "/api/v1/me/invites/{invite_id}/accept",
        accept_my_invite,
        method="POST",
        summary="Accept an invite addressed to your email (once; 409 when used, 410 when expired)",
        tag="invites",
        response=ProjectOut,
        errors=(401, 403, 404, 409, 410),
    ),
]
