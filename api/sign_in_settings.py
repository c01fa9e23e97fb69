"""Settings of signing in and account email: providers (Google, GitHub, any OpenID
Connect issuer), SMTP, and the lifetimes of emailed links. Part of :class:`Settings`."""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

#: Names of providers: in URLs (``/api/v1/auth/oauth/<name>/...``) and stored identities.
PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class OidcProviderSetting(BaseModel):
    """One OpenID Connect provider, found by its issuer's discovery document."""

    model_config = {"frozen": True, "extra": "forbid"}

    name: str
    label: str = ""
    issuer: str
    client_id: str
    client_secret: SecretStr
    scopes: str = "openid email profile"

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                f"{value!r}: an issuer is its https:// URL (without the discovery path)"
            )
        return value  # exactly as the provider writes it (Auth0's ends in "/")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not PROVIDER_NAME.match(value) or value in ("github", "google"):
            raise ValueError(
                f"{value!r}: a provider name is 1-32 of a-z, 0-9 and '-' (google and github"
                " have their own settings)"
            )
        return value


class SignInSettings(BaseSettings):
    """Sign-in providers and account email (``JACAMENO_`` variables, as every setting)."""

    #: Google sign-in (an OAuth client of type "Web application"); unset: no Google button.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    #: GitHub sign-in (an OAuth app); unset: no GitHub button.
    github_client_id: str | None = None
    github_client_secret: SecretStr | None = None
    #: GitHub's web and API addresses (GitHub Enterprise Server has its own).
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    #: More OpenID Connect providers, as JSON: ``[{"name": "keycloak", "label": "Keycloak",
    #: "issuer": "https://id.example.com/realms/music", "client_id": "...",
    #: "client_secret": "..."}]``.
    oidc_providers: Annotated[tuple[OidcProviderSetting, ...], NoDecode] = ()

    #: The SMTP server account email goes through; unset: messages are logged in
    #: development and refused in production.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: ``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (a relay on
    #: the same host).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    mail_from: str = "JACAMENO <no-reply@localhost>"
    #: Seconds an emailed verification (or provider-link) link works, once.
    email_link_ttl_s: int = Field(default=86_400, ge=60, le=30 * 86_400)
    #: ``account_mail``: emailed links (verification, reset) per address and per client
    #: address, in the ``limits`` notation.
    rate_limit_account_mail: str = "6/hour"
    #: Seconds a password-reset link works, once.
    password_reset_ttl_s: int = Field(default=1800, ge=60, le=86_400)

    @field_validator("oidc_providers", mode="before")
    @classmethod
    def _read_providers(cls, value: object) -> object:
        """JSON from the environment; empty (as compose passes an unset one) is none."""
        if isinstance(value, str):
            if not value.strip():
                return ()
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc}") from None
        return value

    @field_validator("oidc_providers")
    @classmethod
    def _unique_names(
        cls, value: tuple[OidcProviderSetting, ...]
    ) -> tuple[OidcProviderSetting, ...]:
        names = [item.name for item in value]
        if len(set(names)) != len(names):
            raise ValueError("two providers have the same name")
        return value
