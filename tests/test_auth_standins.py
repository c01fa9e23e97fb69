"""The sign-in stand-ins proved on their own: the certified oidc-provider (Node),
the GitHub stand-in and the rogue OpenID Provider.

These tests check the tooling, not our server: once trusted here, the tests of
``api`` sign in through them.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet, KeySetSerialization

from tests.support.github_standin import GitHubEmail, GitHubStandIn, github_standin_fixture
from tests.support.oidc_provider import (
    OidcAccount,
    OidcProvider,
    TokenEndpointAuthMethod,
    oauth_callback_url,
    require_oidc_provider_fixture,
    sign_in_at_provider,
)
from tests.support.rogue_oidc import FLAWS, RogueOidc, rogue_oidc_fixture

# The fixtures these tests use live with their stand-ins; importing registers them.
__all__ = ["github_standin_fixture", "require_oidc_provider_fixture", "rogue_oidc_fixture"]

APP_BASE = "http://127.0.0.1:9"  # never requested: the walk stops at the redirect
TEST_TIMEOUT_S = 10
# What a careful client's checks raise for each of the rogue provider's flaws.
FLAW_ERRORS: dict[str, tuple[type[JoseError], str | None]] = {
    "foreign_key": (BadSignatureError, None),
    "expired": (ExpiredTokenError, None),
    "wrong_audience": (InvalidClaimError, "'aud'"),
    "wrong_issuer": (InvalidClaimError, "'iss'"),
    "wrong_nonce": (InvalidClaimError, "'nonce'"),
    "missing_nonce": (MissingClaimError, "'nonce'"),
    "alg_none": (UnsupportedAlgorithmError, None),
}


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _verify_id_token(
    id_token: str, jwks: KeySetSerialization, *, issuer: str, client_id: str, nonce: str
) -> dict[str, Any]:
    """What a careful client checks: signature (RS256 only), iss, aud, exp, nonce."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(token.claims)
    return token.claims


# --------------------------------------------------------------------------- oidc-provider


@pytest.mark.node
@pytest.mark.usefixtures("require_oidc_provider")
@pytest.mark.parametrize(
    ("auth_method", "account", "conform"),
    [
        pytest.param("client_secret_basic", None, False, id="basic-default-account"),
        pytest.param(
            "client_secret_post",
            OidcAccount(email="Ada@Example.Test", email_verified=False, name="Ada L."),
            True,
            id="post-mapped-account-claims-at-userinfo",
        ),
    ],
)
async def test_oidc_provider_code_flow_with_pkce(
    auth_method: TokenEndpointAuthMethod, account: OidcAccount | None, conform: bool
) -> None:
    redirect_uri = oauth_callback_url(APP_BASE, "oidc")
    accounts = {"ada": account} if account is not None else {}
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with (
            OidcProvider(
                redirect_uris=[redirect_uri],
                token_endpoint_auth_method=auth_method,
                accounts=accounts,
                conform_id_token_claims=conform,
            ) as provider,
            httpx.AsyncClient() as http,
        ):
            discovery = (await http.get(provider.discovery_url)).raise_for_status().json()
            assert discovery["issuer"] == provider.issuer
            assert "S256" in discovery["code_challenge_methods_supported"]
            assert auth_method in discovery["token_endpoint_auth_methods_supported"]

            nonce = secrets.token_urlsafe(16)
            verifier = secrets.token_urlsafe(48)
            async with AsyncOAuth2Client(
                provider.client_id,
                provider.client_secret,
                token_endpoint_auth_method=auth_method,
                scope="openid email profile",
                redirect_uri=redirect_uri,
                code_challenge_method="S256",
            ) as oauth:
                authorize_url, state = oauth.create_authorization_url(
                    discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
                )
                callback = await sign_in_at_provider(None, authorize_url, "ada")
                assert callback.startswith(redirect_uri + "?")
                params = _query(callback)
                assert params["state"] == state
                assert params["iss"] == provider.issuer
                tokens = await oauth.fetch_token(
                    discovery["token_endpoint"],
                    authorization_response=callback,
                    code_verifier=verifier,
                )
                userinfo = (await oauth.get(discovery["userinfo_endpoint"])).json()

            jwks = (await http.get(discovery["jwks_uri"])).json()
            claims = _verify_id_token(
                tokens["id_token"],
                jwks,
                issuer=provider.issuer,
                client_id=provider.client_id,
                nonce=nonce,
            )
            assert claims["sub"] == userinfo["sub"] == "ada"
            expected = {
                "email": account.email if account else "ada@example.test",
                "email_verified": account.email_verified if account else True,
                "name": account.name if account else "ada",
            }
            assert {key: userinfo[key] for key in expected} == expected
            if conform:
                assert not set(expected) & set(claims)
            else:
                assert {key: claims[key] for key in expected} == expected


# --------------------------------------------------------------------------- GitHub


async def test_github_standin_round_trip(github_standin: GitHubStandIn) -> None:
    gh = github_standin
    gh.emails = [GitHubEmail("octo@example.test", primary=True, verified=True)]
    redirect_uri = oauth_callback_url(APP_BASE, "github")
    verifier = secrets.token_urlsafe(48)
    async with httpx.AsyncClient(base_url=gh.url) as http:
        authorize = await http.get(
            "/login/oauth/authorize",
            params={
                "client_id": gh.client_id,
                "redirect_uri": redirect_uri,
                "state": "s1",
                "scope": "read:user user:email",
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            },
        )
        assert authorize.status_code == 302
        location = authorize.headers["location"]
        assert location.startswith(redirect_uri + "?")
        code = _query(location)["code"]
        assert _query(location)["state"] == "s1"

        exchange = {
            "client_id": gh.client_id,
            "client_secret": gh.client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        answer = await http.post(
            "/login/oauth/access_token", data=exchange, headers={"Accept": "application/json"}
        )
        body = answer.json()
        assert body["token_type"] == "bearer"
        assert body["scope"] == "read:user,user:email"
        token = body["access_token"]

        reused = await http.post(
            "/login/oauth/access_token", data=exchange, headers={"Accept": "application/json"}
        )
        assert reused.status_code == 200
        assert reused.json()["error"] == "bad_verification_code"
        form_encoded = await http.post("/login/oauth/access_token", data=exchange)
        assert form_encoded.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert _query("?" + form_encoded.text)["error"] == "bad_verification_code"

        user = await http.get("/api/user", headers={"Authorization": f"Bearer {token}"})
        assert user.json()["login"] == "octo"
        assert user.json()["email"] is None
        emails = await http.get("/api/user/emails", headers={"Authorization": f"Bearer {token}"})
        assert emails.json() == [
            {"email": "octo@example.test", "primary": True, "verified": True, "visibility": None}
        ]
        anonymous = await http.get("/api/user")
        assert anonymous.status_code == 401
        assert anonymous.json()["message"] == "Bad credentials"

    assert [r.fields["code_verifier"] for r in gh.requests_to("/login/oauth/access_token")] == [
        verifier
    ] * 3


async def test_github_standin_refuses_a_wrong_pkce_verifier(github_standin: GitHubStandIn) -> None:
    gh = github_standin
    async with httpx.AsyncClient(base_url=gh.url) as http:
        authorize = await http.get(
            "/login/oauth/authorize",
            params={
                "client_id": gh.client_id,
                "redirect_uri": "http://127.0.0.1:9/cb",
                "scope": "read:user",
                "code_challenge": create_s256_code_challenge("a" * 43),
                "code_challenge_method": "S256",
            },
        )
        code = _query(authorize.headers["location"])["code"]
        answer = await http.post(
            "/login/oauth/access_token",
            data={"code": code, "code_verifier": "b" * 43},
            auth=(gh.client_id, gh.client_secret),
            headers={"Accept": "application/json"},
        )
        assert answer.json()["error"] == "bad_verification_code"


# --------------------------------------------------------------------------- rogue provider


async def _rogue_sign_in(
    rogue: RogueOidc, http: httpx.AsyncClient, auth_method: TokenEndpointAuthMethod
) -> tuple[str, str]:
    """One code flow at the rogue provider; returns (id_token, nonce)."""
    redirect_uri = oauth_callback_url(APP_BASE, "rogue")
    discovery = (await http.get(rogue.discovery_url)).json()
    nonce = secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    async with AsyncOAuth2Client(
        rogue.client_id,
        rogue.client_secret,
        token_endpoint_auth_method=auth_method,
        scope="openid email profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    ) as oauth:
        authorize_url, _ = oauth.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        location = (await http.get(authorize_url)).headers["location"]
        tokens = await oauth.fetch_token(
            discovery["token_endpoint"], authorization_response=location, code_verifier=verifier
        )
        userinfo = (await oauth.get(discovery["userinfo_endpoint"])).json()
    assert userinfo["sub"] == rogue.subject
    return tokens["id_token"], nonce


async def test_rogue_oidc_issues_each_flaw(rogue_oidc: RogueOidc) -> None:
    assert set(FLAWS) == {"none", *FLAW_ERRORS}
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(f"{rogue_oidc.issuer}/jwks")).json()
        for index, flaw in enumerate(FLAWS):
            rogue_oidc.flaw = flaw
            auth_method: TokenEndpointAuthMethod = (
                "client_secret_basic" if index % 2 else "client_secret_post"
            )
            id_token, nonce = await _rogue_sign_in(rogue_oidc, http, auth_method)

            def verify(token: str = id_token, nonce: str = nonce) -> dict[str, Any]:
                return _verify_id_token(
                    token,
                    jwks,
                    issuer=rogue_oidc.issuer,
                    client_id=rogue_oidc.client_id,
                    nonce=nonce,
                )

            if flaw == "none":
                assert verify()["email"] == rogue_oidc.email
            else:
                error, claim = FLAW_ERRORS[flaw]
                with pytest.raises(error, match=claim):
                    verify()

        # The PKCE check at /token: a code redeemed with the wrong verifier is refused.
        rogue_oidc.flaw = "none"
        redirect_uri = oauth_callback_url(APP_BASE, "rogue")
        authorize = await http.get(
            f"{rogue_oidc.issuer}/authorize",
            params={
                "response_type": "code",
                "client_id": rogue_oidc.client_id,
                "redirect_uri": redirect_uri,
                "code_challenge": create_s256_code_challenge("a" * 43),
                "code_challenge_method": "S256",
            },
        )
        refused = await http.post(
            f"{rogue_oidc.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": _query(authorize.headers["location"])["code"],
                "redirect_uri": redirect_uri,
                "code_verifier": "b" * 43,
            },
            auth=(rogue_oidc.client_id, rogue_oidc.client_secret),
        )
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_grant"
