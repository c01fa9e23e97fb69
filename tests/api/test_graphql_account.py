"""The account's GraphQL mutations and queries make REST's checks: links work once,
the current password is asked for, sessions end, providers sign in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.api.test_graphql import error_codes
from tests.support.api_client import DEFAULT_PASSWORD, ApiClient
from tests.support.rogue_oidc import RogueOidc, rogue_oidc_fixture
from tests.support.smtp import Inbox, token_in

__all__ = ["rogue_oidc_fixture"]

NEW_PASSWORD = "a brand new passphrase"
RESET = "mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) { %s } }"
CHANGE = (
    'mutation { changePassword(currentPassword: "not it", newPassword: "whatever 123") { %s } }'
)


async def gql(
    api: ApiClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    answer = await api.call(
        "POST", "/graphql", token, json={"query": query, "variables": variables}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


AUTH = "user { id email emailVerified hasPassword } accessToken refreshToken expiresIn"


@pytest.fixture
async def mailed(
    start_api: Callable[..., Any], inbox: Inbox, rogue_oidc: RogueOidc
) -> AsyncIterator[ApiClient]:
    provider = {
        "name": "rogue",
        "label": "Rogue ID",
        "issuer": rogue_oidc.issuer,
        "client_id": rogue_oidc.client_id,
        "client_secret": rogue_oidc.client_secret,
    }
    async with start_api(oidc_providers=[provider], **inbox.settings) as (_server, client):
        yield client


async def test_reset_verify_and_change_the_password_over_graphql(
    mailed: ApiClient, inbox: Inbox
) -> None:
    account = await mailed.signup()
    verification = token_in(await inbox.next())
    verified = await gql(
        mailed,
        "mutation($t: String!) { verifyEmail(token: $t) { email emailVerified } }",
        {"t": verification},
    )
    assert verified["data"]["verifyEmail"] == {"email": account.email, "emailVerified": True}
    again = await gql(
        mailed, "mutation($t: String!) { verifyEmail(token: $t) { id } }", {"t": verification}
    )
    assert error_codes(again) == ["invalid_link"]

    sent = await gql(
        mailed, "mutation($e: String!) { forgotPassword(email: $e) }", {"e": account.email}
    )
    assert sent["data"] == {"forgotPassword": True}
    reset_token = token_in(await inbox.next())
    short = await gql(
        mailed,
        RESET % "expiresIn",
        {"t": reset_token, "p": "short"},
    )
    assert error_codes(short) == ["validation_failed"]
    reset = await gql(
        mailed,
        RESET % AUTH,
        {"t": reset_token, "p": NEW_PASSWORD},
    )
    payload = reset["data"]["resetPassword"]
    assert payload["user"]["emailVerified"] is True
    await inbox.next()  # the notice
    old = await mailed.call("GET", "/api/v1/me", account.access_token)
    assert old.status_code == 401

    token = payload["accessToken"]
    wrong = await gql(
        mailed,
        CHANGE % "expiresIn",
        token=token,
    )
    assert error_codes(wrong) == ["forbidden"]
    sessions = await gql(
        mailed,
        "{ mySessions { sessions { id current method device } apiKeys { id } } }",
        token=token,
    )
    (current,) = sessions["data"]["mySessions"]["sessions"]
    assert current["current"] is True
    assert current["method"] == "reset"
    ended = await gql(
        mailed, "mutation($id: ID!) { endSession(id: $id) }", {"id": current["id"]}, token=token
    )
    assert ended["data"] == {"endSession": True}
    gone = await mailed.call("GET", "/api/v1/me", token)
    assert gone.status_code == 401
    login = await mailed.call(
        "POST", "/api/v1/auth/login", json={"email": account.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 401


async def test_a_provider_sign_in_started_and_finished_over_graphql(mailed: ApiClient) -> None:
    listed = await gql(mailed, "{ signInProviders { name label kind } }")
    assert listed["data"]["signInProviders"] == [
        {"name": "rogue", "label": "Rogue ID", "kind": "oidc"}
    ]
    unknown = await gql(mailed, 'mutation { startSignIn(provider: "nope") }')
    assert error_codes(unknown) == ["not_found"]
    link = await gql(mailed, 'mutation { startSignIn(provider: "rogue", mode: "link") }')
    assert error_codes(link) == ["unauthorized"]
    async with httpx.AsyncClient(base_url=str(mailed.http.base_url)) as browser:
        answer = await browser.post(
            "/graphql", json={"query": 'mutation { startSignIn(provider: "rogue") }'}
        )
        authorize = answer.json()["data"]["startSignIn"]
        assert browser.cookies.get("jacameno_oauth")
        async with httpx.AsyncClient() as at_provider:
            callback = (await at_provider.get(authorize)).headers["location"]
        page = (await browser.get(callback)).headers["location"]
    handoff = page.partition("#handoff=")[2]
    finished = await gql(
        mailed,
        f"mutation($h: String!) {{ finishSignIn(handoff: $h) {{ {AUTH} }} }}",
        {"h": handoff},
    )
    user = finished["data"]["finishSignIn"]["user"]
    assert user["email"] == "rogue@example.test"
    assert user["hasPassword"] is False
    token = finished["data"]["finishSignIn"]["accessToken"]
    linked = await gql(mailed, "{ myLinkedProviders { id provider label } }", token=token)
    (provider,) = linked["data"]["myLinkedProviders"]
    last = await gql(
        mailed,
        "mutation($id: ID!) { unlinkProvider(id: $id) }",
        {"id": provider["id"]},
        token=token,
    )
    assert error_codes(last) == ["conflict"]
