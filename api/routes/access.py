"""Who may use a project: members and their roles, invites, and API keys for bots.

Adding someone by email sends them an invite they accept (:mod:`api.routes.invites`);
the answer is the same whether or not the address has an account. Every change that
lowers a role or removes a member is one conditional statement after the project's
lock (:mod:`api.auth.memberships`), so a project always keeps an owner. Roles change
in :func:`update_member` and memberships end in :func:`remove_member`, each committed
when its session block closes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.memberships import lock_project, member_role, remove_membership, set_role
from jacameno.api.auth.permissions import (
    changeable_roles,
    not_found,
    require_may_change,
    require_may_grant,
    require_project_role,
    require_user,
    row_of_project,
)
from jacameno.api.auth.principal import Principal, UserPrincipal
from jacameno.api.auth.tokens import hash_secret, new_api_key
from jacameno.api.db.models import ApiKey, Membership, ProjectRole, User
from jacameno.api.errors import ConflictError
from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.routes import invites
from jacameno.api.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    InviteOut,
    MemberIn,
    MemberList,
    MemberOut,
    MemberUpdate,
)
from jacameno.api.services import require_principal, services_of


def _member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=ProjectRole(membership.role),
        joined_at=membership.created_at,
    )


async def _refuse(
    session: AsyncSession, principal: Principal, project_id: str, user_id: str, *, removing: bool
) -> NoReturn:
    """Say why a conditional membership change touched no row, read after it: the member
    left (404), became a role the API key may not change (403), or is the last owner (409)."""
    current = await member_role(session, project_id, user_id)
    if current is None:
        raise not_found("member")
    require_may_change(principal, current)
    if removing:
        raise ConflictError("cannot remove the last owner of a project")
    raise ConflictError("a project needs an owner: make someone else owner first")


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
    """Invite an address with a role; the same 201 whether or not it has an account."""
    services = services_of(request)
    project_id = request.path_params["project_id"]
    body = await read_body(request, MemberIn)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        already = await session.execute(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.project_id == project_id, User.email == body.email)
        )
        if already.first() is not None:
            raise ConflictError("already a member; change the role with PATCH")
        invite, _token = await invites.new_invite(
            session,
            principal,
            project_id,
            body.role,
            email=body.email,
            ttl_s=services.settings.invite_ttl_s,
        )
        answer = InviteOut.model_validate(invite)
    return json_response(answer, 201)


async def update_member(request: Request) -> Response:
    """Change a member's role (owners; an API key only below its own role)."""
    services = services_of(request)
    project_id = request.path_params["project_id"]
    user_id = request.path_params["user_id"]
    body = await read_body(request, MemberUpdate)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await lock_project(session, project_id)
        await require_project_role(session, principal, project_id, ProjectRole.OWNER)
        current = await member_role(session, project_id, user_id)
        if current is None:
            raise not_found("member")
        require_may_change(principal, current)
        require_may_grant(principal, body.role)
        changed = await set_role(
            session, project_id, user_id, body.role, from_roles=changeable_roles(principal)
        )
        if not changed:
            await _refuse(session, principal, project_id, user_id, removing=False)
        row = (
            await session.execute(
                select(Membership, User)
                .join(User, User.id == Membership.user_id)
                .where(Membership.project_id == project_id, Membership.user_id == user_id)
                .execution_options(populate_existing=True)
            )
        ).one()
        answer = _member_out(row.Membership, row.User)
    # Committed: the member's open sockets turn read-only (or writable) at once.
    services.live.member_role_changed(project_id, user_id, body.role)
    return json_response(answer)


async def remove_member(request: Request) -> Response:
    """Owners remove anyone (an API key only below its own role); any member may remove
    themselves. The last owner stays."""
    services = services_of(request)
    project_id = request.path_params["project_id"]
    user_id = request.path_params["user_id"]
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        leaving_self = isinstance(principal, UserPrincipal) and principal.user_id == user_id
        required = ProjectRole.VIEWER if leaving_self else ProjectRole.OWNER
        await lock_project(session, project_id)
        await require_project_role(session, principal, project_id, required)
        current = await member_role(session, project_id, user_id)
        if current is None:
            raise not_found("member")
        require_may_change(principal, current)
        removed = await remove_membership(
            session, project_id, user_id, from_roles=changeable_roles(principal)
        )
        if not removed:
            await _refuse(session, principal, project_id, user_id, removing=True)
    # Committed: the former member's open sockets to the project close at once.
    services.live.member_removed(project_id, user_id)
    return Response(status_code=204)


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
        key_id = api_key.id
    # Committed: the key's open sockets close at once.
    services.live.api_key_revoked(key_id)
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
        summary="Invite someone by email with a role (owner only; not with an API key)",
        description="Creates an invite bound to the (normalised) address and answers 201 with"
        " it, the same whether or not the address has an account; the person accepts it from"
        " GET /api/v1/me/invites. A newer invite to an address replaces its pending ones; an"
        " existing member is 409. Addresses are not verified yet: the invite reaches whoever"
        " signs up with the address.",
        tag="members",
        body=MemberIn,
        response=InviteOut,
        status=201,
        errors=(400, 401, 403, 404, 409, 422),
    ),
    ApiRoute(
        f"{P}/members/{{user_id}}",
        update_member,
        method="PATCH",
        summary="Change a member's role (owner only; an API key only below its own role)",
        description="The project always keeps an owner: demoting the last one is 409, also"
        " when two owners demote each other at the same moment. An owner API key may set"
        " editor or viewer on members who are editors or viewers.",
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
        description="The last owner can neither leave nor be removed (409), also when owners"
        " leave at the same moment. An owner API key removes only editors and viewers.",
        tag="members",
        status=204,
        errors=(401, 403, 404, 409),
    ),
    *invites.routes,
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
