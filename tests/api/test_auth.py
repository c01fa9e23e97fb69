from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.support.api_client import DEFAULT_PASSWORD, ApiClient


async def test_signup_login_me(api: ApiClient) -> None:
    signup = await api.call(
        "POST",
        "/api/v1/auth/signup",
        json={"email": "  Ada.Lovelace@Example.COM ", "password": DEFAULT_PASSWORD},
    )
    assert signup.status_code == 201
    body = signup.json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["user"]["email"] == "ada.lovelace@example.com"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert "password_hash" not in body["user"]
    assert "$argon2" not in str(body["user"])
    assert body["user"]["has_password"] is True
    assert body["user"]["email_verified"] is False

    login = await api.call(
        "POST",
        "/api/v1/auth/login",
        json={"email": "ADA.LOVELACE@example.com", "password": DEFAULT_PASSWORD},
    )
    assert login.status_code == 200
    me = await api.call("GET", "/api/v1/me", login.json()["access_token"])
    assert me.status_code == 200
    assert me.json()["user"]["id"] == body["user"]["id"]


async def test_email_is_unique_after_normalisation(api: ApiClient) -> None:
    await api.signup("bob@example.com")
    again = await api.call(
        "POST", "/api/v1/auth/signup", json={"email": "BOB@example.com", "password": "x" * 12}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


async def test_wrong_password_and_unknown_account_look_the_same(api: ApiClient) -> None:
    await api.signup("carol@example.com")
    wrong = await api.call(
        "POST", "/api/v1/auth/login", json={"email": "carol@example.com", "password": "nope-nope"}
    )
    unknown = await api.call(
        "POST", "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_refresh_rotates_and_reuse_revokes_the_family(api: ApiClient) -> None:
    account = await api.signup()
    first = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != account.refresh_token
    assert (await api.call("GET", "/api/v1/me", rotated["access_token"])).status_code == 200

    # The old token again: stolen-session signal; the whole family is revoked.
    replay = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert replay.status_code == 401
    assert "revoked" in replay.json()["error"]["message"]
    newest = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert newest.status_code == 401
    me = await api.call("GET", "/api/v1/me", rotated["access_token"])
    assert me.status_code == 401
    # A fresh login still works.
    login = await api.call(
        "POST", "/api/v1/auth/login", json={"email": account.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200


async def test_logout_revokes_access_and_refresh(api: ApiClient) -> None:
    account = await api.signup()
    other_session = await api.call(
        "POST", "/api/v1/auth/login", json={"email": account.email, "password": DEFAULT_PASSWORD}
    )
    out = await api.call(
        "POST",
        "/api/v1/auth/logout",
        account.access_token,
        json={"refresh_token": account.refresh_token},
    )
    assert out.status_code == 204
    assert (await api.call("GET", "/api/v1/me", account.access_token)).status_code == 401
    refresh = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refresh.status_code == 401
    # Logging out one session leaves the account's other sessions alone.
    other = other_session.json()
    assert (await api.call("GET", "/api/v1/me", other["access_token"])).status_code == 200


def _forge(payload: dict[str, Any], key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda uid: "not-a-jwt", id="garbage"),
        pytest.param(
            lambda uid: _forge(
                {
                    "sub": uid,
                    "jti": "j",
                    "fam": "f",
                    "iat": 1,
                    "exp": 2,
                    "iss": "jacameno",
                    "typ": "access",
                },
                "test-secret-" + "x" * 40,
            ),
            id="expired",
        ),
        pytest.param(
            lambda uid: _forge(
                {
                    "sub": uid,
                    "jti": "j",
                    "fam": "f",
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 600,
                    "iss": "jacameno",
                    "typ": "access",
                },
                "another-secret-" + "y" * 40,
            ),
            id="forged",
        ),
        pytest.param(
            lambda uid: jwt.encode(
                {
                    "sub": uid,
                    "jti": "j",
                    "fam": "f",
                    "iat": int(time.time()),
                    "exp": int(time.time()) + 600,
                    "iss": "jacameno",
                    "typ": "access",
                },
                None,
                algorithm="none",
            ),
            id="alg-none",
        ),
        pytest.param(
            lambda uid: _forge(
                {"sub": uid, "iat": int(time.time()), "exp": int(time.time()) + 600},
                "test-secret-" + "x" * 40,
            ),
            id="missing-claims",
        ),
    ],
)
async def test_bad_tokens_are_401(api: ApiClient, make_token: Callable[[str], str]) -> None:
    account = await api.signup()
    response = await api.call("GET", "/api/v1/me", make_token(account.user_id))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "Traceback" not in response.text


async def test_missing_or_malformed_authorization(api: ApiClient) -> None:
    assert (await api.call("GET", "/api/v1/me")).status_code == 401
    basic = await api.call("GET", "/api/v1/me", headers={"authorization": "Basic abc"})
    assert basic.status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"email": "a@example.com"}', 422),
        (b'{"email": "a@example.com", "password": 12345678}', 422),
        (b'{"email": "not-an-email", "password": "long enough pw"}', 422),
        (b'{"email": "a@example.com", "password": "short"}', 422),
        (b'{"email": "a@example.com", "password": "long enough pw", "admin": true}', 422),
        (b"[]", 422),
    ],
)
async def test_signup_bad_bodies(api: ApiClient, body: bytes, status: int) -> None:
    response = await api.call(
        "POST", "/api/v1/auth/signup", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "details"}
    if status == 422:
        assert response.json()["error"]["details"]


async def test_wrong_content_type_is_415(api: ApiClient) -> None:
    response = await api.call(
        "POST", "/api/v1/auth/login", content=b"email=a", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
