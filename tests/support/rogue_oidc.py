"""A small OpenID Provider on loopback whose ID tokens are wrong on purpose.

``oidc-provider`` (tests/support/oidc_provider.py) will not issue a bad token;
this one does, one `Flaw` at a time, so a test can prove the client refuses it.
A Starlette app under uvicorn in a thread with discovery, ``/jwks`` (its one
RSA key), ``/authorize`` (approves at once: 302 to ``redirect_uri`` with
``code`` and ``state``; PKCE S256 required), ``/token`` (client_secret_basic or
client_secret_post; checks the code, redirect URI and PKCE verifier) and
``/userinfo``. Set `RogueOidc.flaw` before the client reaches ``/token``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import unquote_plus, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeyParameters, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.app_server import free_port, serve_asgi_in_thread

Flaw = Literal[
    "none",  # a correct ID token
    "foreign_key",  # signed by another RSA key published under the same kid
    "expired",  # exp an hour ago
    "wrong_audience",  # aud is another client
    "wrong_issuer",  # iss is another provider
    "wrong_nonce",  # nonce is not the one the authorize request sent
    "missing_nonce",  # no nonce although the authorize request sent one
    "alg_none",  # unsigned (alg "none")
]
FLAWS: tuple[Flaw, ...] = get_args(Flaw)
ID_TOKEN_TTL_S = 300
ACCESS_TOKEN_TTL_S = 300


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    scope: str
    code_challenge: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class RogueOidc:
    """One client (`client_id`, `client_secret`) and one account (`subject`, `email`...)."""

    def __init__(
        self, *, client_id: str = "rogue-test-client", client_secret: str | None = None
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.flaw: Flaw = "none"
        self.subject = "rogue-user-1"
        self.email = "rogue@example.test"
        self.email_verified = True
        self.name = "Rogue User"
        self.issuer = ""
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.id_tokens: list[str] = []
        kid = secrets.token_hex(8)
        params: KeyParameters = {"kid": kid, "use": "sig", "alg": "RS256"}
        self.key = RSAKey.generate_key(2048, parameters=params)
        self.foreign_key = RSAKey.generate_key(2048, parameters=params)
        self._codes: dict[str, _Grant] = {}
        self._access_tokens: set[str] = set()
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
                Route("/jwks", self.jwks, methods=["GET"]),
                Route("/authorize", self.authorize, methods=["GET"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo, methods=["GET", "POST"]),
            ]
        )

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code"],
                "claims_supported": ["sub", "email", "email_verified", "name"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        with self._lock:
            self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return PlainTextResponse("unknown client_id or no redirect_uri", status_code=400)
        state = {"state": query["state"]} if "state" in query else {}
        challenge = query.get("code_challenge")
        if query.get("response_type") != "code":
            problem = {"error": "unsupported_response_type"}
        elif not challenge or query.get("code_challenge_method") != "S256":
            problem = {"error": "invalid_request", "error_description": "PKCE S256 is required"}
        else:
            code = secrets.token_urlsafe(16)
            grant = _Grant(
                self.client_id, redirect_uri, query.get("nonce"), query.get("scope", ""), challenge
            )
            with self._lock:
                self._codes[code] = grant
            problem = {"code": code}
        return RedirectResponse(_with_query(redirect_uri, {**problem, **state}), 302)

    async def token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        with self._lock:
            self.token_requests.append(form)
        client_id, client_secret = _client_credentials(request, form)
        if client_id != self.client_id or not secrets.compare_digest(
            client_secret, self.client_secret
        ):
            return _error("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            return _error("unsupported_grant_type", "authorization_code only")
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None:
            return _error("invalid_grant", "unknown or used code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _error("invalid_grant", "redirect_uri does not match the authorize request")
        verifier = form.get("code_verifier", "")
        challenge = _b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
        if not verifier or not secrets.compare_digest(challenge, grant.code_challenge):
            return _error("invalid_grant", "code_verifier does not match code_challenge")
        access_token = secrets.token_urlsafe(24)
        id_token = self.id_token(grant.nonce, self.flaw)
        with self._lock:
            self._access_tokens.add(access_token)
            self.id_tokens.append(id_token)
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_TTL_S,
                "scope": grant.scope,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            known = scheme.lower() == "bearer" and token in self._access_tokens
        if not known:
            return Response(
                status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return JSONResponse(self.account_claims())

    def account_claims(self) -> dict[str, Any]:
        return {
            "sub": self.subject,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
        }

    def id_token(self, nonce: str | None, flaw: Flaw = "none") -> str:
        """An ID token for the account with `flaw` (``"none"``: a correct one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL_S,
            **self.account_claims(),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if flaw == "expired":
            claims["iat"], claims["exp"] = now - 2 * 3600, now - 3600
        elif flaw == "wrong_audience":
            claims["aud"] = "someone-else"
        elif flaw == "wrong_issuer":
            claims["iss"] = "http://issuer.invalid"
        elif flaw == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif flaw == "missing_nonce":
            claims.pop("nonce", None)
        if flaw == "alg_none":
            header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64url(json.dumps(claims).encode())}."
        key = self.foreign_key if flaw == "foreign_key" else self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """client_secret_basic (RFC 6749 2.3.1: form-urlencoded id and secret) or _post."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return unquote_plus(client_id), unquote_plus(secret)
    return form.get("client_id", ""), form.get("client_secret", "")


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


@pytest.fixture(name="rogue_oidc")
def rogue_oidc_fixture() -> Iterator[RogueOidc]:
    """A fresh `RogueOidc` listening on a free loopback port, issuing correct tokens
    until the test sets `flaw`."""
    rogue = RogueOidc()
    port = free_port()
    with serve_asgi_in_thread(rogue.app, port, lifespan="off"):
        rogue.issuer = f"http://127.0.0.1:{port}"
        yield rogue
