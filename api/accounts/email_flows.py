"""Emailed links and passwords: verify an address, reset a forgotten password, change
one. Every link is single use, short-lived, and only works while the account still
has the address it went to."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jacameno.api.accounts import messages
from jacameno.api.accounts.notices import Client, notice
from jacameno.api.accounts.one_time import LinkInvalidError, Purpose, claim, issue
from jacameno.api.accounts.sessions import announce_ended, end_all_sessions, issue_session
from jacameno.api.auth.principal import UserPrincipal
from jacameno.api.db.models import User
from jacameno.api.errors import ConflictError, ForbiddenError, UnauthorizedError
from jacameno.api.schemas import AuthOut, UserOut, normalise_email
from jacameno.api.services import AppServices


async def send_verification(services: AppServices, session: AsyncSession, user: User) -> None:
    """Email ``user`` a link proving their address (older links stop working)."""
    ttl = services.settings.email_link_ttl_s
    token = await issue(session, user.id, Purpose.VERIFY, ttl, email=user.email, supersede=True)
    url = f"{services.settings.base_url}/verify-email#token={token}"
    services.accounts.outbox.send(messages.verification(user.email, user.display_name, url, ttl))


async def resend_verification(services: AppServices, user_id: str, client: Client) -> None:
    await services.rate_limits.hit("account_mail", "user", user_id)
    async with services.database.session() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise UnauthorizedError("account not found")
        if user.email_verified:
            raise ConflictError(f"{user.email} is verified already")
        await send_verification(services, session, user)


async def verify_email(services: AppServices, secret: str) -> UserOut:
    async with services.database.session() as session:
        token = await claim(session, secret, Purpose.VERIFY)
        user = await session.get(User, token.user_id)
        if user is None or user.email != token.email:
            raise LinkInvalidError("this link is for an address the account no longer has")
        user.email_verified_at = user.email_verified_at or datetime.now(UTC)
        return UserOut.model_validate(user)


async def forgot_password(services: AppServices, email: str, client: Client) -> None:
    """Email a reset link if an account has ``email``; the answer is the same if not."""
    services.accounts.outbox.require()  # refused alike for every address
    try:
        address = normalise_email(email)
    except ValueError:
        return
    await services.rate_limits.hit("account_mail", "ip", client.ip or "unknown")
    await services.rate_limits.hit("account_mail", "address", address)
    async with services.database.session() as session:
        user = (
            await session.execute(select(User).where(User.email == address))
        ).scalar_one_or_none()
        if user is None or not user.is_active:
            return
        ttl = services.settings.password_reset_ttl_s
        token = await issue(session, user.id, Purpose.RESET, ttl, email=user.email, supersede=True)
        url = f"{services.settings.base_url}/reset-password#token={token}"
        services.accounts.outbox.send(
            messages.password_reset(user.email, user.display_name, url, ttl)
        )


async def reset_password(
    services: AppServices, secret: str, password: str, client: Client
) -> AuthOut:
    """Set the password a reset link allows; every session of the account ends."""
    password_hash = await services.passwords.hash(password)
    async with services.database.session() as session:
        token = await claim(session, secret, Purpose.RESET)
        user = await session.get(User, token.user_id)
        if user is None or not user.is_active or user.email != token.email:
            raise LinkInvalidError("this link is for an address the account no longer has")
        user.password_hash = password_hash
        user.email_verified_at = user.email_verified_at or datetime.now(UTC)
        ended = await end_all_sessions(services, session, user.id)
        await notice(services, user, "Your password was reset from an emailed link", client)
        answer = await issue_session(
            services, session, user, method="reset", ip=client.ip, agent=client.agent
        )
    await announce_ended(services, ended)
    return answer


async def change_password(
    services: AppServices,
    principal: UserPrincipal,
    current: str | None,
    new: str,
    client: Client,
) -> AuthOut:
    """Change (or first set) the caller's password; all their sessions end, and this
    one goes on with the tokens answered."""
    await services.rate_limits.hit("auth_ip", client.ip or "unknown")
    async with services.database.session() as session:
        user = await session.get(User, principal.user_id)
        if user is None:
            raise UnauthorizedError("account not found")
        had_password = user.has_password
        if had_password and not await services.passwords.verify(current or "", user.password_hash):
            # 403, not 401: the caller is signed in; only this change is refused.
            raise ForbiddenError("the current password is not right")
    password_hash = await services.passwords.hash(new)
    async with services.database.session() as session:
        user = await session.get(User, principal.user_id)
        assert user is not None
        user.password_hash = password_hash
        ended = await end_all_sessions(services, session, user.id)
        event = "Your password was changed" if had_password else "A password was set"
        await notice(services, user, event, client)
        answer = await issue_session(
            services, session, user, method="password", ip=client.ip, agent=client.agent
        )
    await announce_ended(services, [*ended, principal.family_id])
    return answer
