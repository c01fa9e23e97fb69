"""Who may use a project: members, single-use invites, and API keys for bots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from api.analytics import EventKind, record_event
from api.auth.permissions import require_project_role, require_user, role_allows, row_of_project
from api.auth.tokens import hash_secret, new_api_key, new_secret
from api.db.models import ApiKey, Invite, Membership, Project, ProjectRole, User
from api.errors import ApiError, ConflictError, ForbiddenError, NotFoundError
from api.http import ApiRoute, json_response, read_body
from api.routes.projects import project_out
from api.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    InviteCreated,
    InviteIn,
    InviteList,
    InviteOut,
    MemberIn,
    MemberList,
    MemberOut,
    MemberUpdate,
    ProjectOut,
)
from api.services import require_principal, services_of


class InviteGoneError(ApiError):
    status = 410
    code = "gone"


def _member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=ProjectRole(membership.role),
        joined_at=membership.created_at,
    )


async def _owner_count(session: AsyncSession, project_id: str) -> int:
    return (
        await session.execute(
            select(func.count()).where(
                Membership.project_id == project_id, Membership.role == ProjectRole.OWNER.value
            )
        )
    ).scalar_one()


# ---------------------------------------------------------------------------- members


async def list_members(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.VIEWER)
        rows = await session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.project_id == project_id)
            .order_by(Membership.created_at, User.email)
        )
        items = [_member_out(m, u) for m, u in rows]
    return json_response(MemberList(items=items))


async def add_member(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, MemberIn)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        user = (
            await session.execute(select(User).where(User.email == body.email))
        ).scalar_one_or_none()
        if user is None:
            raise NotFoundError(
                "no account with this email; send an invite instead",
                details={"email": body.email},
            )
        if await session.get(Membership, (project_id, user.id)) is not None:
            raise ConflictError("already a member; change the role with PATCH")
        membership = Membership(project_id=project_id, user_id=user.id, role=body.role.value)
        session.add(membership)
        await session.flush()
        record_event(
            session,
            EventKind.MEMBER_ADDED,
            project_id=project_id,
            user_id=user.id,
            data={"role": body.role.value, "via": "email"},
        )
        answer = _member_out(membership, user)
    return json_response(answer, 201)


async def update_member(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    user_id = request.path_params["user_id"]
    body = await read_body(request, MemberUpdate)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        membership = await session.get(Membership, (project_id, user_id))
        if membership is None:
            raise NotFoundError("not a member of this project")
        if (
            membership.role == ProjectRole.OWNER.value
            and body.role is not ProjectRole.OWNER
            and await _owner_count(session, project_id) == 1
        ):
            raise ConflictError("a project needs an owner: make someone else owner first")
        membership.role = body.role.value
        user = await session.get(User, user_id)
        assert user is not None
        answer = _member_out(membership, user)
    return json_response(answer)


async def remove_member(request: Request) -> Response:
    """Owners remove anyone; any member may remove themselves. The last owner stays."""
    services = services_of(request)
    project_id = request.path_params["project_id"]
    user_id = request.path_params["user_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        leaving_self = getattr(principal, "user_id", None) == user_id
        required = ProjectRole.VIEWER if leaving_self else ProjectRole.OWNER
        await require_project_role(session, principal, project_id, required)
        membership = await session.get(Membership, (project_id, user_id))
        if membership is None:
            raise NotFoundError("not a member of this project")
        if (
            membership.role == ProjectRole.OWNER.value
            and await _owner_count(session, project_id) == 1
        ):
            raise ConflictError("cannot remove the last owner of a project")
        await session.delete(membership)
    return Response(status_code=204)


# ---------------------------------------------------------------------------- invites


async def create_invite(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, InviteIn)
    token = new_secret()
    ttl = body.expires_in_s or services.settings.invite_ttl_s
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        invite = Invite(
            project_id=project_id,
            token_hash=hash_secret(token),
            role=body.role.value,
            email=body.email,
            created_by=getattr(principal, "user_id", None),
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )
        session.add(invite)
        await session.flush()
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
    token = request.path_params["token"]
    now = datetime.now(UTC)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
        invite = (
            await session.execute(select(Invite).where(Invite.token_hash == hash_secret(token)))
        ).scalar_one_or_none()
        if invite is None:
            raise NotFoundError("no such invite")
        if invite.accepted_at is not None:
            raise ConflictError("this invite has already been used")
        if invite.expires_at <= now:
            raise InviteGoneError("this invite has expired; ask for a new one")
        if invite.email is not None and invite.email != user.email:
            raise ForbiddenError("this invite is for another email address")
        invite.accepted_at = now
        invite.accepted_by = user.user_id
        role = ProjectRole(invite.role)
        membership = await session.get(Membership, (invite.project_id, user.user_id))
        if membership is None:
            session.add(
                Membership(project_id=invite.project_id, user_id=user.user_id, role=role.value)
            )
        elif not role_allows(ProjectRole(membership.role), role):
            membership.role = role.value  # an invite never demotes
        else:
            role = ProjectRole(membership.role)
        record_event(
            session,
            EventKind.MEMBER_ADDED,
            project_id=invite.project_id,
            user_id=user.user_id,
            data={"role": role.value, "via": "invite"},
        )
        project = await session.get(Project, invite.project_id)
        assert project is not None
        answer = project_out(project, role)
    return json_response(answer)


# ---------------------------------------------------------------------------- API keys


async def create_api_key(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, ApiKeyIn)
    key, prefix = new_api_key()
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
        await require_project_role(session, user, project_id, ProjectRole.OWNER)
        api_key = ApiKey(
            project_id=project_id,
            name=body.name,
            role=body.role.value,
            prefix=prefix,
            key_hash=hash_secret(key),
            created_by=user.user_id,
        )
        session.add(api_key)
        await session.flush()
        answer = ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=key)
    return json_response(answer, 201)


async def list_api_keys(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        keys = (
            await session.execute(
                select(ApiKey).where(ApiKey.project_id == project_id).order_by(ApiKey.created_at)
            )
        ).scalars()
        items = [ApiKeyOut.model_validate(key) for key in keys]
    return json_response(ApiKeyList(items=items))


async def revoke_api_key(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        api_key = await row_of_project(
            session, ApiKey, request.path_params["key_id"], project_id, what="API key"
        )
        if api_key.revoked_at is None:
            api_key.revoked_at = datetime.now(UTC)
    return Response(status_code=204)


P = "/api/v1/projects/{project_id}"
routes = [
    ApiRoute(
        f"{P}/members",
        list_members,
        method="GET",
        summary="Members and their roles",
        tag="members",
        response=MemberList,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        f"{P}/members",
        add_member,
        method="POST",
        summary="Add an existing account by email (owner only)",
        tag="members",
        body=MemberIn,
        response=MemberOut,
        status=201,
        errors=(400, 401, 403, 404, 409, 422),
    ),
    ApiRoute(
        f"{P}/members/{{user_id}}",
        update_member,
        method="PATCH",
        summary="Change a member's role (owner only)",
        tag="members",
        body=MemberUpdate,
        response=MemberOut,
        errors=(400, 401, 403, 404, 409, 422),
    ),
    ApiRoute(
        f"{P}/members/{{user_id}}",
        remove_member,
        method="DELETE",
        summary="Remove a member (owner), or leave (self)",
        tag="members",
        status=204,
        errors=(401, 403, 404, 409),
    ),
    ApiRoute(
        f"{P}/invites",
        create_invite,
        method="POST",
        summary="Create a single-use invite (owner only)",
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
        summary="Accept an invite",
        tag="invites",
        response=ProjectOut,
        errors=(401, 403, 404, 409, 410),
    ),
    ApiRoute(
        f"{P}/api-keys",
        create_api_key,
        method="POST",
        summary="Create an API key for a bot (owner only; shown once)",
        tag="api-keys",
        body=ApiKeyIn,
        response=ApiKeyCreated,
        status=201,
        errors=(400, 401, 403, 404, 422),
    ),
    ApiRoute(
        f"{P}/api-keys",
        list_api_keys,
        method="GET",
        summary="API keys (owner only)",
        tag="api-keys",
        response=ApiKeyList,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        f"{P}/api-keys/{{key_id}}",
        revoke_api_key,
        method="DELETE",
        summary="Revoke an API key (owner only)",
        tag="api-keys",
        status=204,
        errors=(401, 403, 404),
    ),
]
