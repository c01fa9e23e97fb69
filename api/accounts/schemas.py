"""Bodies and answers of the sign-in, email-link, password and session routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from jacameno.api.schemas import Body, Out, Password, UserOut

Secret = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class ProviderOut(Out):
    name: str
    label: str
    #: ``oidc`` (Google and any OpenID Connect provider) or ``github``.
    kind: str


class ProvidersOut(Out):
    providers: list[ProviderOut]


class OAuthStartIn(Body):
    #: ``signin`` (signed out) or ``link`` (add the provider to the signed-in account).
    mode: Literal["signin", "link"] = "signin"
    #: The page to open afterwards; the web client keeps it (the server sends the browser
    #: to ``/auth/done``), so it is only checked here.
    next: Annotated[str, StringConstraints(max_length=2000, pattern=r"^/([^/].*)?$")] | None = None


class OAuthStartOut(Out):
    #: Send the browser here; the provider comes back to the callback.
    authorize_url: str


class HandoffIn(Body):
    handoff: Secret


class TokenIn(Body):
    token: Secret


class VerifiedOut(Out):
    user: UserOut


class SentOut(Out):
    sent: bool = True


class ForgotIn(Body):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]


class ResetIn(Body):
    token: Secret
    password: Password


class PasswordChangeIn(Body):
    #: Required when the account has a password.
    current_password: Annotated[str, StringConstraints(max_length=1024)] | None = None
    new_password: Password


class IdentityOut(Out):
    id: str
    provider: str
    label: str
    email: str | None
    created_at: datetime
    last_used_at: datetime | None


class IdentitiesOut(Out):
    identities: list[IdentityOut]


class SessionOut(Out):
    id: str
    #: The session of the request that asked.
    current: bool
    #: ``password``, a provider's name, ``reset`` or ``email-link``.
    method: str
    device: str
    ip: str | None
    place: str | None
    created_at: datetime
    last_used_at: datetime


class KeyUseOut(Out):
    id: str
    name: str
    prefix: str
    project_id: str
    project_name: str
    role: str
    device: str | None
    ip: str | None
    place: str | None
    created_at: datetime
    last_used_at: datetime | None


class SessionsOut(Out):
    sessions: list[SessionOut]
    #: Active API keys the user created.
    api_keys: list[KeyUseOut]
