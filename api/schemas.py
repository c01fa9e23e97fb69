"""Request and response bodies of the REST API (also the source of the OpenAPI document):
the base models, accounts, projects, members, invites, API keys and analytics.

Audio bodies (plugins, assets, jobs) are in :mod:`api.audio_schemas`; versions and
document views in :mod:`api.document_schemas`.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from jacameno.api.db.models import ProjectRole


def normalise_email(value: str) -> str:
    """NFKC, trimmed, lower-cased and syntax-checked; one spelling per address."""
    value = unicodedata.normalize("NFKC", value).strip()
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


def lookup_email(value: str) -> str:
    """The spelling an account with ``value`` is stored under: :func:`normalise_email`, or
    trimmed and lower-cased when the address does not pass its checks (an account made
    before them, or a provider's address), so a lookup never fails on syntax alone."""
    try:
        return normalise_email(value)
    except ValueError:
        return value.strip().lower()


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(normalise_email)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class Body(BaseModel):
    """Request bodies: unknown fields and wrong types are refused (422)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- accounts


class SignupIn(Body):
    email: Email
    password: Password
    display_name: Name | None = None


class LoginIn(Body):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class RefreshIn(Body):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class LogoutIn(Body):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None


class UserOut(Out):
    id: str
    email: str
    display_name: str
    created_at: datetime
    #: The address was proven (an emailed link, or a provider that verified it).
    email_verified: bool = False
    #: False for an account made by a provider sign-in, until a password is set.
    has_password: bool = True


class AuthOut(Out):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    #: Seconds until the access token expires.
    expires_in: int


class MeOut(Out):
    user: UserOut | None
    #: Set when the caller is an API key rather than a person.
    api_key: ApiKeyOut | None = None


# ---------------------------------------------------------------------------- projects


class PageQuery(Query):
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ProjectQuery(PageQuery):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class ProjectCreate(Body):
    """A new project; tempo, key and time signature go into its document's ``meta``."""

    name: Name
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    bpm: Annotated[float, Field(gt=0, le=999)] = 120.0
    key: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None
    ) = None
    time_signature: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]?/(1|2|4|8|16|32)$")] = (
        "4/4"
    )


class ProjectUpdate(Body):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None


class ProjectOut(Out):
    id: str
    name: str
    description: str
    #: The caller's role in the project.
    role: ProjectRole
    created_at: datetime
    updated_at: datetime


class ProjectPage(Out):
    items: list[ProjectOut]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------------------- members


class MemberIn(Body):
    """Invite someone by email: they accept from ``GET /api/v1/me/invites``."""

    email: Email
    role: ProjectRole


class MemberUpdate(Body):
    role: ProjectRole


class MemberOut(Out):
    user_id: str
    email: str
    display_name: str
    role: ProjectRole
    joined_at: datetime


class MemberList(Out):
    items: list[MemberOut]


class InviteIn(Body):
    role: ProjectRole
    #: Optional: only this address may accept the invite.
    email: Email | None = None
    #: Lifetime in seconds (default: JACAMENO_INVITE_TTL_S).
    expires_in_s: int | None = Field(default=None, ge=60, le=90 * 86_400)


class InviteOut(Out):
    id: str
    role: ProjectRole
    email: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


class InviteCreated(InviteOut):
    #: The single-use token; shown once.
    token: str


class InviteList(Out):
    items: list[InviteOut]


class PendingInviteOut(Out):
    """An invite addressed to the caller's email: not accepted and not expired."""

    id: str
    project_id: str
    project_name: str
    role: ProjectRole
    #: Display name of the person who sent it (null once their account is gone).
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class PendingInviteList(Out):
    items: list[PendingInviteOut]


class ApiKeyIn(Body):
    name: Name
    role: ProjectRole


class ApiKeyOut(Out):
    id: str
    project_id: str
    name: str
    role: ProjectRole
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    #: The key itself; shown once, stored only as a hash.
    key: str


class ApiKeyList(Out):
    items: list[ApiKeyOut]


class AnalyticsQuery(PageQuery):
    kind: str | None = Field(default=None, max_length=64)


class AnalyticsEventOut(Out):
    id: int
    kind: str
    user_id: str | None
    data: dict[str, Any]
    created_at: datetime


class AnalyticsPage(Out):
    items: list[AnalyticsEventOut]
    total: int
    limit: int
    offset: int


MeOut.model_rebuild()
