"""Sign-in providers: any OpenID Connect issuer (Google is one) and GitHub.

The authorization-code flow with PKCE (S256), ``state`` and ``nonce`` runs through
Authlib's httpx client; ID tokens are verified with joserfc (Authlib's JOSE library)
against the keys the issuer publishes: signature (asymmetric algorithms only),
issuer, audience, authorized party, expiry and nonce. GitHub speaks OAuth 2 without
ID tokens: the person is whoever its API says the token belongs to.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from jacameno.api.errors import ApiError

#: ID-token algorithms accepted: asymmetric only (no ``none``, no HMAC key confusion).
ID_TOKEN_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
#: Seconds of clock difference tolerated on ``exp``/``iat``.
LEEWAY_S = 60
#: Seconds the discovery document and keys are kept (keys are refetched on an unknown kid).
METADATA_TTL_S = 3600
TIMEOUT_S = 15.0


class ProviderError(ApiError):
    """The provider refused, failed, or answered what cannot be trusted."""

    status = 502
    code = "provider_error"


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider says signed in."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class SignInProvider(Protocol):
    name: str
    label: str
    kind: str

    async def authorize_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        """Where to send the browser to sign in."""

    async def identity(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> ProviderIdentity:
        """Exchange ``code`` and verify who signed in; raise :class:`ProviderError`."""


def _client(
    tls: ssl.SSLContext, client_id: str, secret: str, redirect_uri: str, scope: str, **kwargs: Any
) -> AsyncOAuth2Client:
    """Authlib's client for one exchange (sharing ``tls``: making a context costs ~0.1 s)."""
    return AsyncOAuth2Client(
        client_id,
        secret,
        verify=tls,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=TIMEOUT_S,
        **kwargs,
    )


@dataclass
class OidcProvider:
    """An OpenID Connect provider found by its issuer's discovery document."""

    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    http: httpx.AsyncClient
    tls: ssl.SSLContext
    kind: str = "oidc"
    _metadata: tuple[float, dict[str, Any]] | None = field(default=None, repr=False)
    _keys: tuple[float, KeySet] | None = field(default=None, repr=False)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata[0] > METADATA_TTL_S:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer") != self.issuer:
                raise ProviderError(f"{self.label}'s discovery document names another issuer")
            missing = [
                key
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                if not isinstance(document.get(key), str)
            ]
            if missing:
                raise ProviderError(f"{self.label}'s discovery document has no {missing[0]}")
            self._metadata = (time.monotonic(), document)
        return self._metadata[1]

    async def keys(self, *, refresh: bool = False) -> KeySet:
        if refresh or self._keys is None or time.monotonic() - self._keys[0] > METADATA_TTL_S:
            document = await self._get_json(str((await self.metadata())["jwks_uri"]))
            try:
                self._keys = (time.monotonic(), KeySet.import_key_set(document))  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise ProviderError(f"{self.label}'s published keys cannot be read") from None
        return self._keys[1]

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url, timeout=TIMEOUT_S)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"{self.label} cannot be reached ({type(exc).__name__})") from None
        if not isinstance(document, dict):
            raise ProviderError(f"{self.label} answered something that is not JSON")
        return document

    async def authorize_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        async with _client(self.tls, self.client_id, "", redirect_uri, self.scopes) as client:
            url, _state = client.create_authorization_url(
                endpoint, state=state, nonce=nonce, code_verifier=code_verifier
            )
        return str(url)

    async def identity(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> ProviderIdentity:
        metadata = await self.metadata()
        methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        async with _client(
            self.tls,
            self.client_id,
            self.client_secret,
            redirect_uri,
            self.scopes,
            token_endpoint_auth_method=method,
        ) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=code_verifier
                )
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                raise ProviderError(f"{self.label} refused the sign-in: {exc}") from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError(f"{self.label} sent no ID token")
        claims = await self.verify_id_token(id_token, nonce)
        email = claims.get("email")
        return ProviderIdentity(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of ``id_token`` once signature, issuer, audience, time and nonce hold."""
        try:
            try:
                token = jwt.decode(id_token, await self.keys(), algorithms=ID_TOKEN_ALGORITHMS)
            except InvalidKeyIdError:  # the provider may have rotated its keys
                keys = await self.keys(refresh=True)
                token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise ProviderError(
                f"the ID token is not signed by {self.label}'s published keys ({exc})"
            ) from None
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_S,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ClaimError as exc:
            raise ProviderError(f"the ID token is not valid for this sign-in ({exc})") from None
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise ProviderError("the ID token was issued to another client (azp)")
        return claims


@dataclass
class GitHubProvider:
    """GitHub's OAuth web flow (with PKCE) and its ``/user`` and ``/user/emails`` API."""

    client_id: str
    client_secret: str
    url: str
    api_url: str
    http: httpx.AsyncClient
    tls: ssl.SSLContext
    name: str = "github"
    label: str = "GitHub"
    kind: str = "github"
    scopes: str = "read:user user:email"

    async def authorize_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        async with _client(self.tls, self.client_id, "", redirect_uri, self.scopes) as client:
            url, _state = client.create_authorization_url(
                f"{self.url.rstrip('/')}/login/oauth/authorize",
                state=state,
                code_verifier=code_verifier,
            )
        return str(url)

    async def identity(
        self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> ProviderIdentity:
        async with _client(
            self.tls,
            self.client_id,
            self.client_secret,
            redirect_uri,
            self.scopes,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
        ) as client:
            try:
                await client.fetch_token(
                    f"{self.url.rstrip('/')}/login/oauth/access_token",
                    code=code,
                    code_verifier=code_verifier,
                    headers={"Accept": "application/json"},
                )
                api = self.api_url.rstrip("/")
                headers = {"Accept": "application/vnd.github+json"}
                user = await client.get(f"{api}/user", headers=headers)
                emails = await client.get(f"{api}/user/emails", headers=headers)
                profile, addresses = (
                    user.raise_for_status().json(),
                    emails.raise_for_status().json(),
                )
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                raise ProviderError(f"GitHub refused the sign-in: {exc}") from None
        if not isinstance(profile, dict) or not isinstance(profile.get("id"), int):
            raise ProviderError("GitHub did not say who signed in")
        verified = [
            entry
            for entry in (addresses if isinstance(addresses, list) else [])
            if isinstance(entry, dict) and entry.get("verified") is True and entry.get("email")
        ]
        primary = next((e for e in verified if e.get("primary") is True), None)
        chosen = primary or (verified[0] if verified else None)
        name = profile.get("name") or profile.get("login")
        return ProviderIdentity(
            subject=str(profile["id"]),
            email=str(chosen["email"]) if chosen else None,
            email_verified=chosen is not None,
            name=str(name) if name else None,
        )
