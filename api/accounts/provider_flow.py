"""Signing in and linking with a provider, from the first redirect to the tokens.

1. :func:`start` records the flow (``state`` hashed, ``nonce``, PKCE verifier, the
   browser it began in: a cookie) and answers the provider's authorization URL.
2. :func:`finish` takes the provider's redirect: the flow is deleted before anything
   else (a replayed redirect finds nothing), must come back to the browser it began
   in (no login CSRF), and the provider's answer is verified (:mod:`.providers`).
   A known identity signs in; a new one with a verified email that no account has
   creates the account; one whose email an account already has is linked only from a
   link emailed to that address (:func:`confirm_link`): no takeover through a
   provider's claim of an address.
3. The web client trades the handoff code in its address for tokens (:func:`handoff`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from authlib.common.security import generate_token
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import Response

from jacameno.api.accounts import messages
from jacameno.api.accounts.notices import Client, notice
from jacameno.api.accounts.one_time import LinkInvalidError, Purpose, claim, issue
from jacameno.api.accounts.providers import ProviderError, ProviderIdentity, SignInProvider
from jacameno.api.accounts.sessions import announce_ended, end_all_sessions, issue_session
from jacameno.api.analytics import EventKind, record_event
from jacameno.api.auth.tokens import hash_secret, new_secret
from jacameno.api.db.models import Identity, OAuthFlow, User
from jacameno.api.errors import ApiError, ConflictError, NotFoundError, UnauthorizedError
from jacameno.api.schemas import AuthOut, lookup_email
from jacameno.api.services import AppServices
from jacameno.api.settings import Environment, Settings

#: The cookie binding a flow to the browser that began it.
COOKIE = "jacameno_oauth"
COOKIE_PATH = "/api/v1/auth/oauth"
#: Seconds a person has at the provider.
FLOW_TTL_S = 600
#: Seconds the web client has to trade its handoff code.
HANDOFF_TTL_S = 120


class FlowError(ApiError):
    """A sign-in or link that cannot finish; shown to the person on ``page``."""

    status = 400
    code = "sign_in_failed"

    def __init__(self, message: str, *, page: str = "/login") -> None:
        super().__init__(message)
        self.page = page

    @property
    def redirect(self) -> str:
        return f"{self.page}?error={quote(self.message)}"


def callback_url(services: AppServices, provider: str) -> str:
    return f"{services.settings.base_url}{COOKIE_PATH}/{provider}/callback"


async def begin(
    services: AppServices, connection: HTTPConnection, provider_name: str, user_id: str | None
) -> tuple[str, str]:
    """Record a flow for the browser of ``connection`` (linking to ``user_id`` when set):
    the provider's authorization URL and the secret for :func:`set_flow_cookie`."""
    provider = services.accounts.provider(provider_name)
    await services.rate_limits.hit("auth_ip", "oauth", Client.of(connection).ip or "unknown")
    browser = connection.cookies.get(COOKIE) or new_secret()
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    now = datetime.now(UTC)
    async with services.database.session() as session:
        await session.execute(delete(OAuthFlow).where(OAuthFlow.expires_at < now))
        session.add(
            OAuthFlow(
                state_hash=hash_secret(state),
                browser_hash=hash_secret(browser),
                provider=provider.name,
                mode="link" if user_id else "signin",
                user_id=user_id,
                nonce=nonce,
                code_verifier=verifier,
                expires_at=now + timedelta(seconds=FLOW_TTL_S),
            )
        )
        url = await provider.authorize_url(
            redirect_uri=callback_url(services, provider.name),
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )
    return url, browser


def set_flow_cookie(response: Response, browser: str, settings: Settings) -> None:
    """Bind the flow to this browser: only it can finish the sign-in (no login CSRF)."""
    response.set_cookie(
        COOKIE,
        browser,
        max_age=FLOW_TTL_S,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.env is Environment.PRODUCTION,
    )


async def _take_flow(services: AppServices, state: str) -> OAuthFlow:
    """The flow of ``state``, deleted in its own transaction (single use)."""
    async with services.database.session() as session:
        flow = (
            await session.execute(
                select(OAuthFlow).where(OAuthFlow.state_hash == hash_secret(state))
            )
        ).scalar_one_or_none()
        if flow is None:
            raise FlowError("this sign-in is unknown or already finished; start it again")
        taken = await session.execute(delete(OAuthFlow).where(OAuthFlow.id == flow.id))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise FlowError("this sign-in is already finished; start it again")
        session.expunge(flow)
    return flow


async def finish(
    services: AppServices,
    provider_name: str,
    params: dict[str, str],
    *,
    browser: str | None,
    client: Client,
) -> str:
    """The page to send the browser to once the provider answered (raise FlowError)."""
    flow = await _take_flow(services, params.get("state") or "-")
    page = "/account" if flow.mode == "link" else "/login"
    if flow.provider != provider_name:
        raise FlowError("this sign-in was started with another provider", page=page)
    if flow.expires_at <= datetime.now(UTC):
        raise FlowError("this sign-in took too long; start it again", page=page)
    if browser is None or hash_secret(browser) != flow.browser_hash:
        raise FlowError("this sign-in was started in another browser; start it here", page=page)
    provider = services.accounts.provider(provider_name)
    if params.get("error"):
        reason = params.get("error_description") or params["error"]
        raise FlowError(f"{provider.label} did not sign you in: {reason[:200]}", page=page)
    if not params.get("code"):
        raise FlowError(f"{provider.label} sent no authorization code", page=page)
    try:
        identity = await provider.identity(
            code=params["code"],
            redirect_uri=callback_url(services, provider_name),
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
        )
    except ProviderError as exc:
        raise FlowError(exc.message, page=page) from None
    if flow.mode == "link" and flow.user_id:
        await _link(services, provider, identity, flow.user_id, client)
        return f"/account?linked={quote(provider_name)}"
    return await _sign_in(services, provider, identity)


async def _identity_row(session: AsyncSession, provider: str, subject: str) -> Identity | None:
    return (
        await session.execute(
            select(Identity).where(Identity.provider == provider, Identity.subject == subject)
        )
    ).scalar_one_or_none()


async def _link(
    services: AppServices,
    provider: SignInProvider,
    identity: ProviderIdentity,
    user_id: str,
    client: Client,
) -> None:
    async with services.database.session() as session:
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            raise FlowError("your account is not active", page="/account")
        row = await _identity_row(session, provider.name, identity.subject)
        if row is not None and row.user_id != user_id:
            raise FlowError(
                f"that {provider.label} account already signs in to another JACAMENO account",
                page="/account",
            )
        if row is not None:
            return
        session.add(
            Identity(
                user_id=user_id,
                provider=provider.name,
                subject=identity.subject,
                email=identity.email,
            )
        )
        await notice(services, user, f"{provider.label} was linked as a way to sign in", client)


async def _sign_in(
    services: AppServices, provider: SignInProvider, identity: ProviderIdentity
) -> str:
    now = datetime.now(UTC)
    try:
        async with services.database.session() as session:
            row = await _identity_row(session, provider.name, identity.subject)
            if row is not None:
                user = await session.get(User, row.user_id)
                if user is None or not user.is_active:
                    raise FlowError("this account is disabled")
                row.last_used_at, row.email = now, identity.email or row.email
            else:
                if not identity.email or not identity.email_verified:
                    raise FlowError(
                        f"{provider.label} did not share a verified email address: verify it"
                        f" with {provider.label}, or sign up with your email"
                    )
                email = lookup_email(identity.email)
                existing = (
                    await session.execute(select(User).where(User.email == email))
                ).scalar_one_or_none()
                if existing is not None:
                    await _email_link(services, session, existing, provider, identity)
                    return f"/login?notice=check-email&provider={quote(provider.name)}"
                user = User(
                    email=email,
                    display_name=(identity.name or email.split("@")[0])[:200],
                    password_hash="",
                    email_verified_at=now,
                )
                session.add(user)
                await session.flush()
                session.add(
                    Identity(
                        user_id=user.id,
                        provider=provider.name,
                        subject=identity.subject,
                        email=identity.email,
                        last_used_at=now,
                    )
                )
                record_event(
                    session, EventKind.SIGNUP, user_id=user.id, data={"via": provider.name}
                )
            code = await issue(
                session, user.id, Purpose.HANDOFF, HANDOFF_TTL_S, payload={"method": provider.name}
            )
    except IntegrityError:  # the same first sign-in twice at once
        raise FlowError("this sign-in raced another one; sign in again") from None
    return f"/auth/done#handoff={code}"


async def _email_link(
    services: AppServices,
    session: AsyncSession,
    user: User,
    provider: SignInProvider,
    identity: ProviderIdentity,
) -> None:
    """Email ``user`` a link that links ``identity`` once they open it."""
    ttl = services.settings.email_link_ttl_s
    token = await issue(
        session,
        user.id,
        Purpose.LINK,
        ttl,
        email=user.email,
        payload={"provider": provider.name, "subject": identity.subject, "email": identity.email},
    )
    url = f"{services.settings.base_url}/confirm-link#token={token}"
    services.accounts.outbox.send(
        messages.link_confirmation(user.email, user.display_name, provider.label, url, ttl)
    )


async def confirm_link(services: AppServices, secret: str, client: Client) -> AuthOut:
    """Link the provider an emailed link names and sign in. An account whose address was
    never proven loses its password and sessions here: whoever set them had not shown
    they own the address (an account made ahead of its owner cannot keep a way in)."""
    ended: list[str] = []
    async with services.database.session() as session:
        token = await claim(session, secret, Purpose.LINK)
        user = await session.get(User, token.user_id)
        if user is None or not user.is_active or user.email != token.email:
            raise LinkInvalidError("this link is for an address the account no longer has")
        name, subject = str(token.payload["provider"]), str(token.payload["subject"])
        provider = services.accounts.provider(name)
        row = await _identity_row(session, name, subject)
        if row is not None and row.user_id != user.id:
            raise ConflictError(f"that {provider.label} account signs in to another account now")
        if row is None:
            email = token.payload.get("email")
            session.add(
                Identity(
                    user_id=user.id,
                    provider=name,
                    subject=subject,
                    email=str(email) if email else None,
                    last_used_at=datetime.now(UTC),
                )
            )
        if user.email_verified_at is None:
            user.password_hash = ""
            ended = await end_all_sessions(services, session, user.id)
            user.email_verified_at = datetime.now(UTC)
        await notice(services, user, f"{provider.label} was linked as a way to sign in", client)
        record_event(session, EventKind.LOGIN, user_id=user.id, data={"via": name})
        answer = await issue_session(
            services, session, user, method=name, ip=client.ip, agent=client.agent
        )
    await announce_ended(services, ended)
    return answer


async def handoff(services: AppServices, secret: str, client: Client) -> AuthOut:
    """Tokens for the provider sign-in whose handoff code this is (single use)."""
    async with services.database.session() as session:
        token = await claim(session, secret, Purpose.HANDOFF)
        user = await session.get(User, token.user_id)
        if user is None or not user.is_active:
            raise UnauthorizedError("account not found or disabled")
        method = str(token.payload.get("method") or "provider")
        record_event(session, EventKind.LOGIN, user_id=user.id, data={"via": method})
        return await issue_session(
            services, session, user, method=method, ip=client.ip, agent=client.agent
        )


async def unlink(services: AppServices, user_id: str, identity_id: str, client: Client) -> None:
    """Remove a linked provider, unless it is the account's last way to sign in."""
    async with services.database.session() as session:
        row = await session.get(Identity, identity_id)
        user = await session.get(User, user_id)
        if row is None or user is None or row.user_id != user_id:
            raise NotFoundError("no such linked provider")
        others = await session.scalar(
            select(func.count())
            .select_from(Identity)
            .where(Identity.user_id == user_id, Identity.id != identity_id)
        )
        if not user.has_password and not others:
            raise ConflictError(
                "this is the last way to sign in to your account: set a password or link"
                " another provider first"
            )
        await session.delete(row)
        label = services.accounts.providers.get(row.provider)
        await notice(
            services, user, f"{label.label if label else row.provider} was unlinked", client
        )
