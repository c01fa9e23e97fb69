"""``DELETE /api/v1/me``: delete the caller's account and what is kept about them.

Asked with the account's password (an account made by a provider sign-in, which has
none, types its email address instead). Projects the user alone owns are deleted with
everything of them (as ``DELETE /api/v1/projects/{id}``); in projects shared with
another owner only the membership goes. The API keys the user created are revoked,
every open collaboration socket of theirs closes, their sessions end, and their AI
memory (the vectors of what they accepted, wrote and chose) is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import func, select, update
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import require_user
from jacameno.api.db.models import ApiKey, Membership, ProjectRole, User
from jacameno.api.errors import ForbiddenError, UnauthorizedError
from jacameno.api.http import ApiRoute, read_body
from jacameno.api.routes.projects import delete_project_data
from jacameno.api.schemas import Body, Password
from jacameno.api.services import require_principal, services_of


class DeleteAccountIn(Body):
    #: Required when the account has a password.
    password: Password | None = None
    #: The account's address, typed again: the confirmation of an account without password.
    confirm_email: Annotated[str, StringConstraints(max_length=320)] | None = None


async def delete_account(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, DeleteAccountIn)
    async with services.database.session() as session:
        principal = require_user(await require_principal(request, session))
        user = await session.get(User, principal.user_id)
        if user is not None and not user.has_password:
            typed = (body.confirm_email or "").strip().lower()
            if typed != user.email:
                raise ForbiddenError("type the account's email address to confirm")
        else:
            ok = await services.passwords.verify(
                body.password or "", user.password_hash if user else None
            )
            if user is None or not ok:
                raise UnauthorizedError("the password is not right")
        owned = list(
            (
                await session.execute(
                    select(Membership.project_id).where(
                        Membership.user_id == user.id, Membership.role == ProjectRole.OWNER.value
                    )
                )
            ).scalars()
        )
        other_owners = (
            await session.execute(
                select(Membership.project_id, func.count())
                .where(
                    Membership.project_id.in_(owned),
                    Membership.user_id != user.id,
                    Membership.role == ProjectRole.OWNER.value,
                )
                .group_by(Membership.project_id)
            )
        ).all()
        shared = {project_id for project_id, _count in other_owners}
        member_of = list(
            (
                await session.execute(
                    select(Membership.project_id).where(Membership.user_id == user.id)
                )
            ).scalars()
        )
        keys = list(
            (
                await session.execute(
                    select(ApiKey.id).where(
                        ApiKey.created_by == user.id, ApiKey.revoked_at.is_(None)
                    )
                )
            ).scalars()
        )
        await session.execute(
            update(ApiKey).where(ApiKey.id.in_(keys)).values(revoked_at=datetime.now(UTC))
        )
    for project_id in owned:
        if project_id not in shared:
            await delete_project_data(services, project_id)
    async with services.database.session() as session:
        user = await session.get(User, principal.user_id)
        if user is not None:
            # Memberships and refresh tokens cascade; rows that name the user keep a null.
            await session.delete(user)
    for key_id in keys:
        services.live.api_key_revoked(key_id)
    for project_id in member_of:
        services.live.member_removed(project_id, principal.user_id)
    ttl = max(1, principal.expires_at - int(datetime.now(UTC).timestamp()))
    await services.revoked.revoke(principal.token_id, ttl_s=ttl)
    if services.lyrics.memory is not None:
        await services.lyrics.memory.forget_user(principal.user_id)
    return Response(status_code=204)


routes = [
    ApiRoute(
        "/api/v1/me",
        delete_account,
        method="DELETE",
        summary="Delete your account, the projects you alone own, and your AI memory",
        tag="auth",
        body=DeleteAccountIn,
        status=204,
        errors=(400, 401, 403, 415, 422),
    ),
]
