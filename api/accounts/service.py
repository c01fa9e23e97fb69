"""The accounts service one application owns: its sign-in providers, the outbox of
account email, and the table that places addresses (opened by the lifespan)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx
import structlog

from jacameno.api.accounts.mail import (
    Mail,
    MailTransport,
    MailUnavailableError,
    Outbox,
    open_outbox,
)
from jacameno.api.accounts.places import Places
from jacameno.api.accounts.providers import GitHubProvider, OidcProvider, SignInProvider
from jacameno.api.errors import NotFoundError
from jacameno.api.settings import Settings

log = structlog.get_logger(__name__)

GOOGLE_ISSUER = "https://accounts.google.com"


@dataclass(slots=True)
class Accounts:
    providers: dict[str, SignInProvider]
    outbox: Outbox
    places: Places

    def provider(self, name: str) -> SignInProvider:
        found = self.providers.get(name)
        if found is None:
            raise NotFoundError(f"no sign-in provider is called {name!r} here")
        return found

    def notify(self, mail: Mail) -> None:
        """Send a notice if email can be sent here (a notice never stops what it reports)."""
        try:
            self.outbox.send(mail)
        except MailUnavailableError as exc:
            log.warning("security notice not sent", to=mail.to, reason=exc.message)


def build_providers(
    settings: Settings, http: httpx.AsyncClient, tls: ssl.SSLContext
) -> dict[str, SignInProvider]:
    """The providers ``settings`` configure, by name, in the order buttons show them."""
    providers: dict[str, SignInProvider] = {}
    if settings.google_client_id and settings.google_client_secret:
        providers["google"] = OidcProvider(
            name="google",
            label="Google",
            issuer=GOOGLE_ISSUER,
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            scopes="openid email profile",
            http=http,
            tls=tls,
        )
    if settings.github_client_id and settings.github_client_secret:
        providers["github"] = GitHubProvider(
            client_id=settings.github_client_id,
            client_secret=settings.github_client_secret.get_secret_value(),
            url=settings.github_url,
            api_url=settings.github_api_url,
            http=http,
            tls=tls,
        )
    for item in settings.oidc_providers:
        providers[item.name] = OidcProvider(
            name=item.name,
            label=item.label or item.name.title(),
            issuer=item.issuer,
            client_id=item.client_id,
            client_secret=item.client_secret.get_secret_value(),
            scopes=item.scopes,
            http=http,
            tls=tls,
        )
    return providers


@asynccontextmanager
async def open_accounts(
    settings: Settings, transport: MailTransport | None = None
) -> AsyncIterator[Accounts]:
    """The providers (one HTTP client for discovery and keys, made only when a provider
    is set), the outbox and places."""
    async with AsyncExitStack() as stack:
        outbox = await stack.enter_async_context(open_outbox(settings, transport))
        providers: dict[str, SignInProvider] = {}
        if has_providers(settings):
            # Off the event loop: loading the system's CA certificates takes ~0.1 s.
            tls = await anyio.to_thread.run_sync(ssl.create_default_context)
            http = await stack.enter_async_context(
                httpx.AsyncClient(verify=tls, follow_redirects=False)
            )
            providers = build_providers(settings, http, tls)
        yield Accounts(providers, outbox, Places())


def has_providers(settings: Settings) -> bool:
    return bool(
        (settings.google_client_id and settings.google_client_secret)
        or (settings.github_client_id and settings.github_client_secret)
        or settings.oidc_providers
    )
