"""Signing in with providers against the certified ``oidc-provider`` on loopback and a
GitHub stand-in: the whole code flow with PKCE over HTTP, and the attacks on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.support.api_client import DEFAULT_PASSWORD, ApiClient
from tests.support.app_server import RunningServer, free_port
from tests.support.github_standin import GitHubStandIn, github_standin_fixture
from tests.support.oidc_provider import (
    OidcAccount,
    OidcProvider,
    oauth_callback_url,
    require_oidc_provider_fixture,
    sign_in_at_provider,
)
from tests.support.rogue_oidc import Flaw, RogueOidc, rogue_oidc_fixture
from tests.support.smtp import Inbox, text_of, token_in

__all__ = ["github_standin_fixture", "require_oidc_provider_fixture", "rogue_oidc_fixture"]

pytestmark = pytest.mark.node
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
OpenWorld = Callable[[], AbstractAsyncContextManager["World"]]
ACCOUNTS = {
    "ada": OidcAccount(email="ada@example.com", name="Ada"),
    "eve": OidcAccount(email="eve@example.com", email_verified=False),
}


@dataclass
class World:
    server: RunningServer
    api: ApiClient
    idp: OidcProvider
    github: GitHubStandIn
    inbox: Inbox

    def browser(self) -> httpx.AsyncClient:
        """A browser of its own (cookie jar) on our server."""
        return httpx.AsyncClient(base_url=self.server.base_url, timeout=30)


@pytest.fixture
def open_world(
    start_api: Callable[..., Any],
    inbox: Inbox,
    github_standin: GitHubStandIn,
    require_oidc_provider: None,
) -> Callable[[], AbstractAsyncContextManager[World]]:
    """``async with open_world() as world`` in the test's own task (the provider's task
    group must exit in the task that entered it)."""
    return lambda: _world(start_api, inbox, github_standin)


@asynccontextmanager
async def _world(
    start_api: Callable[..., Any], inbox: Inbox, github_standin: GitHubStandIn
) -> AsyncIterator[World]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with OidcProvider(
        redirect_uris=[oauth_callback_url(base, "idp")], accounts=ACCOUNTS
    ) as idp:
        settings = {
            "port": port,
            "oidc_providers": [
                {
                    "name": "idp",
                    "label": "Test ID",
                    "issuer": idp.issuer,
                    "client_id": idp.client_id,
                    "client_secret": idp.client_secret,
                }
            ],
            "github_client_id": github_standin.client_id,
            "github_client_secret": github_standin.client_secret,
            "github_url": github_standin.url,
            "github_api_url": github_standin.api_url,
            **inbox.settings,
        }
        async with start_api(**settings) as (server, api):
            yield World(server, api, idp, github_standin, inbox)


async def start(browser: httpx.AsyncClient, provider: str, token: str | None = None) -> str:
    mode = "link" if token else "signin"
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = await browser.post(
        f"/api/v1/auth/oauth/{provider}/start", json={"mode": mode, "next": "/"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["authorize_url"]
    return url


async def come_back(browser: httpx.AsyncClient, callback: str) -> str:
    """Follow the provider's redirect to our callback; the page it sends the browser on to."""
    answer = await browser.get(callback)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


async def handoff(world: World, page: str) -> dict[str, Any]:
    assert page.startswith("/auth/done#handoff="), page
    code = page.partition("#handoff=")[2]
    answer = await world.api.call("POST", "/api/v1/auth/oauth/handoff", json={"handoff": code})
    assert answer.status_code == 200, answer.text
    again = await world.api.call("POST", "/api/v1/auth/oauth/handoff", json={"handoff": code})
    assert again.status_code == 400
    body: dict[str, Any] = answer.json()
    return body


async def sign_in_with_idp(world: World, login: str) -> str:
    """A whole sign-in with the OpenID provider in a fresh browser; the page it ends on."""
    async with world.browser() as browser:
        callback = await sign_in_at_provider(None, await start(browser, "idp"), login)
        return await come_back(browser, callback)


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def error_of(page: str) -> str:
    assert "?error=" in page, page
    return parse_qs(urlsplit(page).query)["error"][0]


async def test_a_first_sign_in_makes_the_account_and_the_next_finds_it(
    open_world: OpenWorld,
) -> None:
    async with open_world() as world:
        providers = await world.api.call("GET", "/api/v1/auth/providers")
        assert [p["name"] for p in providers.json()["providers"]] == ["github", "idp"]
        first = await handoff(world, await sign_in_with_idp(world, "ada"))
        user = first["user"]
        assert user["email"] == "ada@example.com"
        assert user["email_verified"] is True
        assert user["has_password"] is False
        assert user["display_name"] == "Ada"
        second = await handoff(world, await sign_in_with_idp(world, "ada"))
        assert second["user"]["id"] == user["id"]
        sessions = await world.api.call("GET", "/api/v1/me/sessions", second["access_token"])
        assert {s["method"] for s in sessions.json()["sessions"]} == {"idp"}
        identities = await world.api.call("GET", "/api/v1/me/identities", second["access_token"])
        (identity,) = identities.json()["identities"]
        assert (identity["provider"], identity["label"]) == ("idp", "Test ID")
        # No password to guess: the account has none.
        login = await world.api.call(
            "POST", "/api/v1/auth/login", json={"email": "ada@example.com", "password": "x" * 12}
        )
        assert login.status_code == 401
        # Deleting an account without a password is confirmed by typing its address.
        token = second["access_token"]
        refused = await world.api.call("DELETE", "/api/v1/me", token, json={"password": "x" * 12})
        assert refused.status_code == 403
        deleted = await world.api.call(
            "DELETE", "/api/v1/me", token, json={"confirm_email": "ADA@example.com"}
        )
        assert deleted.status_code == 204
        anew = await handoff(world, await sign_in_with_idp(world, "ada"))
        assert anew["user"]["id"] != user["id"]


@SQLITE_ONLY  # checks of the flow, the same on either database
async def test_forged_state_another_browser_and_a_replayed_redirect_are_refused(
    open_world: OpenWorld,
) -> None:
    async with open_world() as world, world.browser() as browser:
        callback = await sign_in_at_provider(None, await start(browser, "idp"), "ada")
        forged = await come_back(browser, with_query(callback, state="forged-state"))
        assert "unknown or already finished" in error_of(forged)
        async with world.browser() as elsewhere:  # the redirect stolen into another browser
            stolen = await come_back(elsewhere, callback)
        assert "another browser" in error_of(stolen)
        # The flow is spent: its own browser cannot finish it afterwards either.
        replayed = await come_back(browser, callback)
        assert "unknown or already finished" in error_of(replayed)

        callback = await sign_in_at_provider(None, await start(browser, "idp"), "ada")
        await handoff(world, await come_back(browser, callback))
        replayed = await come_back(browser, callback)
        assert "already finished" in error_of(replayed)


@SQLITE_ONLY  # checks of the flow, the same on either database
async def test_a_replayed_code_and_a_wrong_nonce_are_refused(open_world: OpenWorld) -> None:
    async with open_world() as world, world.browser() as browser:
        used = await sign_in_at_provider(None, await start(browser, "idp"), "ada")
        await handoff(world, await come_back(browser, used))
        # The code again, under a fresh flow of this browser: the provider refuses it
        # (used once, and its PKCE challenge was another flow's).
        fresh = await sign_in_at_provider(None, await start(browser, "idp"), "ada")
        state = parse_qs(urlsplit(fresh).query)["state"][0]
        replayed = await come_back(browser, with_query(used, state=state))
        assert "refused the sign-in" in error_of(replayed)

        # An authorization request whose nonce was swapped: the ID token carries the
        # swapped one, which is not the flow's.
        url = with_query(await start(browser, "idp"), nonce="nonce-of-the-attacker")
        callback = await sign_in_at_provider(None, url, "ada")
        page = await come_back(browser, callback)
        assert "nonce" in error_of(page)


@SQLITE_ONLY  # checks of the flow, the same on either database
async def test_an_unverified_provider_email_makes_no_account(open_world: OpenWorld) -> None:
    async with open_world() as world:
        page = await sign_in_with_idp(world, "eve")
        assert "did not share a verified email" in error_of(page)
        login = await world.api.call(
            "POST", "/api/v1/auth/login", json={"email": "eve@example.com", "password": "x" * 12}
        )
        assert login.status_code == 401
        assert world.inbox.empty()


async def test_an_existing_email_is_linked_only_from_the_link_sent_to_it(
    open_world: OpenWorld,
) -> None:
    async with open_world() as world:
        """Someone signed up with ada's address (never verified) before ada came with her
        provider: the emailed link links it, and the squatter's password and sessions end."""
        squatter = await world.api.signup("ada@example.com")
        await world.inbox.next()  # the verification the squatter cannot open
        page = await sign_in_with_idp(world, "ada")
        assert page == "/login?notice=check-email&provider=idp"
        message = await world.inbox.next()
        assert message["Subject"] == "Sign in with Test ID?"
        assert "/confirm-link#token=" in text_of(message)
        linked = await world.api.call(
            "POST", "/api/v1/auth/email/link", json={"token": token_in(message)}
        )
        assert linked.status_code == 200, linked.text
        body = linked.json()
        assert body["user"]["id"] == squatter.user_id
        assert body["user"]["email_verified"] is True
        assert body["user"]["has_password"] is False
        again = await world.api.call(
            "POST", "/api/v1/auth/email/link", json={"token": token_in(message)}
        )
        assert again.status_code == 400
        assert (await world.api.call("GET", "/api/v1/me", squatter.access_token)).status_code == 401
        login = await world.api.call(
            "POST",
            "/api/v1/auth/login",
            json={"email": "ada@example.com", "password": DEFAULT_PASSWORD},
        )
        assert login.status_code == 401
        notice = await world.inbox.next()
        assert "Test ID was linked" in notice["Subject"]
        # From now on the provider signs in straight away.
        direct = await handoff(world, await sign_in_with_idp(world, "ada"))
        assert direct["user"]["id"] == squatter.user_id


async def test_github_is_linked_to_a_signed_in_account_once(open_world: OpenWorld) -> None:
    async with open_world() as world:
        ada = await handoff(world, await sign_in_with_idp(world, "ada"))
        token = ada["access_token"]
        async with world.browser() as browser:
            authorize = await start(browser, "github", token)
            assert parse_qs(urlsplit(authorize).query)["code_challenge_method"] == ["S256"]
            async with httpx.AsyncClient() as at_github:
                callback = (await at_github.get(authorize)).headers["location"]
            assert await come_back(browser, callback) == "/account?linked=github"
        notice = await world.inbox.next()
        assert "GitHub was linked" in notice["Subject"]
        identities = await world.api.call("GET", "/api/v1/me/identities", token)
        providers = {i["provider"]: i for i in identities.json()["identities"]}
        assert set(providers) == {"idp", "github"}

        # The same GitHub account cannot be linked to a second JACAMENO account.
        other = await world.api.signup("other@example.com")
        async with world.browser() as browser, httpx.AsyncClient() as at_github:
            authorize = await start(browser, "github", other.access_token)
            callback = (await at_github.get(authorize)).headers["location"]
            page = await come_back(browser, callback)
        assert page.startswith("/account?error=")
        assert "another JACAMENO account" in error_of(page)

        # GitHub now signs ada in; unlinking keeps one way in at least.
        async with world.browser() as browser, httpx.AsyncClient() as at_github:
            callback = (await at_github.get(await start(browser, "github"))).headers["location"]
            via_github = await handoff(world, await come_back(browser, callback))
        assert via_github["user"]["id"] == ada["user"]["id"]
        unlinked = await world.api.call(
            "DELETE", f"/api/v1/me/identities/{providers['idp']['id']}", token
        )
        assert unlinked.status_code == 204
        last = await world.api.call(
            "DELETE", f"/api/v1/me/identities/{providers['github']['id']}", token
        )
        assert last.status_code == 409
        assert "last way to sign in" in last.json()["error"]["message"]
        # A link needs the account's own token; a signed-out start cannot link.
        async with world.browser() as browser:
            refused = await browser.post("/api/v1/auth/oauth/github/start", json={"mode": "link"})
        assert refused.status_code == 401


@SQLITE_ONLY  # checks of the flow, the same on either database
async def test_github_without_a_verified_email_or_cancelled_is_refused(
    open_world: OpenWorld,
) -> None:
    async with open_world() as world:
        world.github.approve = False
        async with world.browser() as browser, httpx.AsyncClient() as at_github:
            callback = (await at_github.get(await start(browser, "github"))).headers["location"]
            page = await come_back(browser, callback)
        assert "GitHub did not sign you in" in error_of(page)
        world.github.approve = True
        for email in world.github.emails:
            email.verified = False
        async with world.browser() as browser, httpx.AsyncClient() as at_github:
            callback = (await at_github.get(await start(browser, "github"))).headers["location"]
            page = await come_back(browser, callback)
        assert "did not share a verified email" in error_of(page)


@SQLITE_ONLY  # the verifier is the same on either database
@pytest.mark.parametrize(
    ("flaw", "reason"),
    [
        ("foreign_key", "not signed by"),
        ("alg_none", "not signed by"),
        ("expired", "expired"),
        ("wrong_audience", "aud"),
        ("wrong_issuer", "iss"),
        ("wrong_nonce", "nonce"),
        ("missing_nonce", "nonce"),
    ],
)
async def test_id_tokens_that_cannot_be_trusted_are_refused(
    start_api: Callable[..., Any], rogue_oidc: RogueOidc, flaw: Flaw, reason: str
) -> None:
    """A provider (on loopback, in Python) whose ID token is flawed one way at a time."""
    provider = {
        "name": "rogue",
        "issuer": rogue_oidc.issuer,
        "client_id": rogue_oidc.client_id,
        "client_secret": rogue_oidc.client_secret,
    }
    async with start_api(oidc_providers=[provider]) as (server, _api):
        for current, expected in ((flaw, reason), ("none", None)):
            rogue_oidc.flaw = current
            async with httpx.AsyncClient(base_url=server.base_url) as browser:
                authorize = await start(browser, "rogue")
                async with httpx.AsyncClient() as at_rogue:
                    callback = (await at_rogue.get(authorize)).headers["location"]
                page = await come_back(browser, callback)
            if expected is None:  # the same provider, unflawed, signs in
                assert page.startswith("/auth/done#handoff="), page
            else:
                assert expected in error_of(page)


@SQLITE_ONLY
async def test_a_provider_that_is_down_gets_a_clear_error(start_api: Callable[..., Any]) -> None:
    provider = {
        "name": "down",
        "label": "Down ID",
        "issuer": f"http://127.0.0.1:{free_port()}",
        "client_id": "c",
        "client_secret": "s",
    }
    async with start_api(oidc_providers=[provider]) as (server, api):
        async with httpx.AsyncClient(base_url=server.base_url) as browser:
            answer = await browser.post("/api/v1/auth/oauth/down/start", json={})
        assert answer.status_code == 502
        assert answer.json()["error"]["message"].startswith("Down ID cannot be reached")
        unknown = await api.call("POST", "/api/v1/auth/oauth/nope/start", json={})
        assert unknown.status_code == 404
        assert (await api.call("GET", "/healthz")).status_code == 200
