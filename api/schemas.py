"""Request and response bodies of the REST API (also the source of the OpenAPI document)."""

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


# ---------------------------------------------------------------------------- plugins


class PluginQuery(Query):
    category: str | None = Field(default=None, max_length=32)


class PluginParamOut(Out):
    name: str
    unit: str
    min: float
    max: float
    default: float
    description: str = ""


class PluginOut(Out):
    id: str
    name: str
    category: str
    description: str = ""
    params: list[PluginParamOut]


class PluginList(Out):
    items: list[PluginOut]


MeOut.model_rebuild()


# ---------------------------------------------------------------------------- versions, documents


class VersionIn(Body):
    name: Name


class VersionOut(Out):
    id: str
    name: str
    #: Who named it: ``user:<id>`` or ``apikey:<id>``.
    created_by: str | None
    created_at: datetime


class VersionPage(Out):
    items: list[VersionOut]
    total: int
    limit: int
    offset: int


class VersionQuery(Query):
    #: Also answer the version's content (the JSON view of its document).
    document: bool = False


class VersionDetail(VersionOut):
    #: What changed from this version to the current document (``docs_model.diff_summary``).
    changes: dict[str, Any]
    document: dict[str, Any] | None = None


class RestoreOut(Out):
    version: VersionOut
    #: What the restore changed in the document (``docs_model.diff_summary``).
    changes: dict[str, Any]
    #: A version named automatically with the state just before the restore (to undo it).
    backup_version_id: str | None


class ProblemOut(Out):
    path: str
    message: str


class DocumentOut(Out):
    project_id: str
    #: ``docs_model.to_json`` of the current document.
    document: dict[str, Any]
    #: Wrong shapes peers wrote (``docs_model.validate``); reads skip or repair them.
    problems: list[ProblemOut]


# ---------------------------------------------------------------------------- audio: assets, jobs


class AssetOut(Out):
    id: str
    project_id: str
    #: ``upload``, ``render`` (a mix), ``master``, ``pitch_curve`` (an SVG picture), ...
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    duration_s: float | None
    sample_rate: int | None
    channels: int | None
    created_at: datetime
    #: Presigned link to the bytes (valid ``JACAMENO_PRESIGN_EXPIRY_S`` seconds).
    download_url: str
    #: Figures from the analysis job (loudness, true peak, tempo, key...), once it ran.
    analysis: dict[str, Any] | None = None


class TrackUploadOut(Out):
    asset: AssetOut
    #: The new track's id in the project document (and the ``tracks`` table).
    track_id: str
    #: The analysis job queued for the upload.
    job_id: str


class WaveformQuery(Query):
    #: Number of min/max points for the whole asset.
    points: int = Field(default=1000, ge=1, le=65_536)
    #: One channel (0-based) instead of every channel.
    channel: int | None = Field(default=None, ge=0, le=63)
    #: Min/max over all channels as one row.
    mix: bool = False


class WaveformOut(Out):
    asset_id: str
    sample_rate: int
    frames: int
    duration_s: float
    samples_per_point: float
    points: int
    #: ``[channel][point]`` minima and maxima, -1..1.
    min: list[list[float]]
    max: list[list[float]]


class JobOut(Out):
    id: str
    project_id: str
    kind: str
    status: str
    progress: float
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    #: True when an identical queued or running job was returned instead of a new one.
    reused: bool = False


class MixingRequest(Body):
    project_id: str = Field(min_length=1, max_length=64)
    #: Genre preset (pop, hip_hop, rock, electronic, acoustic, podcast...); default: the
    #: document's ``mix.preset`` or pop.
    preset: str | None = Field(default=None, min_length=1, max_length=32)


class MasteringRequest(Body):
    project_id: str = Field(min_length=1, max_length=64)
    preset: str = Field(default="streaming", min_length=1, max_length=32)
    target_lufs: float | None = Field(default=None, ge=-30.0, le=-5.0)
    ceiling_dbtp: float | None = Field(default=None, ge=-6.0, le=0.0)
    #: Master this asset instead of the latest mix render.
    asset_id: str | None = Field(default=None, min_length=1, max_length=64)
    #: Match the spectrum and loudness of this reference asset.
    reference_asset_id: str | None = Field(default=None, min_length=1, max_length=64)


class CoachingRequest(Body):
    project_id: str = Field(min_length=1, max_length=64)
    #: The vocal track; default: the first vocal track with audio.
    track_id: str | None = Field(default=None, min_length=1, max_length=64)
    #: "A minor", "F# major"; default: the document's ``meta.key``.
    key: str | None = Field(default=None, min_length=1, max_length=32)
    #: A guide recording whose notes are the targets.
    reference_asset_id: str | None = Field(default=None, min_length=1, max_length=64)
