"""Accounts: signup, login, refresh (rotating, with reuse detection), logout, me."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.accounts.email_flows import send_verification
from jacameno.api.accounts.mail import MailUnavailableError
from jacameno.api.accounts.notices import Client
from jacameno.api.accounts.sessions import issue_session, revoke_families
from jacameno.api.analytics import EventKind, record_event
from jacameno.api.auth.permissions import require_user
from jacameno.api.auth.principal import ApiKeyPrincipal
from jacameno.api.auth.tokens import hash_secret
from jacameno.api.db.models import ApiKey, RefreshToken, User
from jacameno.api.errors import ConflictError, UnauthorizedError
from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.schemas import (
    ApiKeyOut,
    AuthOut,
    LoginIn,
    LogoutIn,
    MeOut,
    RefreshIn,
    SignupIn,
    UserOut,
    lookup_email,
)
from jacameno.api.services import client_ip, require_principal, services_of

log = structlog.get_logger(__name__)


async def _issue(
    request: Request, session: AsyncSession, user: User, family_id: str | None = None
) -> AuthOut:
    """Tokens for a password sign-in (or its rotation), recorded with the device."""
    client = Client.of(request)
    return await issue_session(
        services_of(request),
        session,
        user,
        method="password",
        ip=client.ip,
        agent=client.agent,
        family_id=family_id,
    )


async def signup(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, SignupIn)
    await services.rate_limits.hit("auth_ip", client_ip(request))
    password_hash = await services.passwords.hash(body.password)
    try:
        async with services.database.session() as session:
            user = User(
                email=body.email,
                display_name=body.display_name or body.email.split("@")[0],
                password_hash=password_hash,
            )
            session.add(user)
            await session.flush()
            record_event(session, EventKind.SIGNUP, user_id=user.id)
            answer = await _issue(request, session, user)
            try:
                await send_verification(services, session, user)
            except MailUnavailableError as exc:  # the account stands; the link can be resent
                log.warning("verification email not sent", reason=exc.message)
    except IntegrityError:
        raise ConflictError("an account with this email already exists") from None
    return json_response(answer, 201)


async def login(request: Request) -> Response:
    """Sign in. Failures are throttled per address (429) and slowed per account
    (a delay, never a refusal): see :class:`api.ratelimit.LoginThrottle`."""
    services = services_of(request)
    body = await read_body(request, LoginIn)
    email = lookup_email(body.email)
    throttle = services.rate_limits.logins
    attempt = await throttle.start(email, client_ip(request))
    await anyio.sleep(attempt.delay_s)
    answer: AuthOut | None = None
    async with services.database.session() as session:
        user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
        ok = await services.passwords.verify(body.password, user.password_hash if user else None)
        if user is not None and ok and user.is_active:
            record_event(session, EventKind.LOGIN, user_id=user.id)
            answer = await _issue(request, session, user)
    if answer is None:
        await throttle.failed(attempt)
        raise UnauthorizedError("invalid email or password")
    await throttle.succeeded(attempt)
    return json_response(answer)


async def refresh(request: Request) -> Response:
    """Rotate a refresh token. Reusing an already-rotated token revokes its whole family."""
    services = services_of(request)
    body = await read_body(request, RefreshIn)
    now = datetime.now(UTC)
    reused_family: str | None = None
    async with services.database.session() as session:
        token = (
            await session.execute(
                select(RefreshToken).where(
                    RefreshToken.token_hash == hash_secret(body.refresh_token)
                )
            )
        ).scalar_one_or_none()
        if token is None or token.revoked_at is not None:
            raise UnauthorizedError("invalid refresh token")
        if token.expires_at <= now:
            raise UnauthorizedError("refresh token expired; sign in again")
        # Claim the token atomically: of two concurrent uses, exactly one wins.
        claimed = await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token.id,
                RefreshToken.rotated_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(rotated_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            reused_family = token.family_id
            await revoke_families(session, [token.family_id])
        else:
            user = await session.get(User, token.user_id)
            if user is None or not user.is_active:
                raise UnauthorizedError("account not found or disabled")
            answer = await _issue(request, session, user, token.family_id)
    if reused_family is not None:
        await services.revoked.revoke(reused_family, ttl_s=services.tokens.ttl_s)
        services.live.session_ended(token_ids=(), family_ids=(reused_family,))
        raise UnauthorizedError(
            "refresh token was already used; this session has been revoked, sign in again"
        )
    return json_response(answer)


async def logout(request: Request) -> Response:
    """Revoke the caller's session: its refresh-token family and its access token."""
    services = services_of(request)
    body = await read_body(request, LogoutIn)
    now = datetime.now(UTC)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
        families = {user.family_id}
        if body.refresh_token is not None:
            token = (
                await session.execute(
                    select(RefreshToken).where(
                        RefreshToken.token_hash == hash_secret(body.refresh_token),
                        RefreshToken.user_id == user.user_id,
                    )
                )
            ).scalar_one_or_none()
            if token is not None:
                families.add(token.family_id)
        await revoke_families(session, families)
    ttl = max(1, user.expires_at - int(now.timestamp()))
    for identifier in (user.token_id, *families):
        await services.revoked.revoke(identifier, ttl_s=max(ttl, services.tokens.ttl_s))
    # The session's open collaboration sockets close at once.
    services.live.session_ended(token_ids=(user.token_id,), family_ids=tuple(families))
    return Response(status_code=204)


async def me(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        if isinstance(principal, ApiKeyPrincipal):
            key = await session.get(ApiKey, principal.key_id)
            return json_response(MeOut(user=None, api_key=ApiKeyOut.model_validate(key)))
        user = await session.get(User, principal.user_id)
        return json_response(MeOut(user=UserOut.model_validate(user)))


routes = [
    ApiRoute(
        "/api/v1/auth/signup",
        signup,
        method="POST",
        summary="Create an account",
        tag="auth",
        body=SignupIn,
        response=AuthOut,
        status=201,
        auth=False,
        errors=(400, 409, 422, 429),
    ),
    ApiRoute(
        "/api/v1/auth/login",
        login,
        method="POST",
        summary="Sign in with email and password",
        tag="auth",
        body=LoginIn,
        response=AuthOut,
        auth=False,
        errors=(400, 401, 422, 429),
    ),
    ApiRoute(
        "/api/v1/auth/refresh",
        refresh,
        method="POST",
        summary="Rotate a refresh token for new tokens",
        tag="auth",
        body=RefreshIn,
        response=AuthOut,
        auth=False,
        errors=(400, 401, 422),
    ),
    ApiRoute(
        "/api/v1/auth/logout",
        logout,
        method="POST",
        summary="Revoke this session",
        tag="auth",
        body=LogoutIn,
        status=204,
        errors=(400, 401, 403, 422),
    ),
    ApiRoute(
        "/api/v1/me",
        me,
        method="GET",
        summary="The caller",
        tag="auth",
        response=MeOut,
        errors=(401,),
    ),
]
