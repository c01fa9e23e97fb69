"""The GraphQL schema: queries and mutations over the same permission check as REST."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from graphql import GraphQLError
from graphql.language import StringValueNode
from graphql.validation import ValidationRule
from pydantic import ValidationError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.scalars import JSON
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from jacameno.api.audio_schemas import ExportRequest, MasteringRequest
from jacameno.api.auth.permissions import require_project_role, require_user, visible_projects
from jacameno.api.auth.principal import ApiKeyPrincipal
from jacameno.api.db.models import Project as ProjectRow
from jacameno.api.db.models import ProjectRole
from jacameno.api.db.models import User as UserRow
from jacameno.api.error_table import api_error_for
from jacameno.api.errors import ValidationFailedError
from jacameno.api.graphql.account import AccountMutation, AccountQuery
from jacameno.api.graphql.context import Context
from jacameno.api.graphql.types import (
    Job,
    Lyrics,
    Project,
    ProjectPage,
    RestoreResult,
    User,
    Version,
)
from jacameno.api.http import validation_details
from jacameno.api.jobs import queue_job
from jacameno.api.lyrics import LyricsIn, generate_lyrics
from jacameno.api.routes import versions
from jacameno.api.routes.projects import create_owned_project
from jacameno.api.schemas import ProjectCreate
from jacameno.docs_model.schema import DEFAULT_BPM, DEFAULT_TIME_SIGNATURE

#: Limits that keep one query from costing the server more than a page of REST calls.
MAX_DEPTH = 6
MAX_ALIASES = 20
MAX_TOKENS = 2_000

Info = strawberry.Info[Context, None]


def _project(row: ProjectRow, role: ProjectRole | str) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        role=ProjectRole(role),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _load_project(info: Info, project_id: str, required: ProjectRole) -> Project:
    principal = await info.context.principal()
    async with info.context.services.database.session() as session:
        role = await require_project_role(session, principal, project_id, required)
        row = await session.get(ProjectRow, project_id)
        assert row is not None
        return _project(row, role)


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info) -> User | None:
        """The signed-in user (null for an API key)."""
        principal = await info.context.principal()
        if isinstance(principal, ApiKeyPrincipal):
            return None
        async with info.context.services.database.session() as session:
            row = await session.get(UserRow, principal.user_id)
            return User.of(row) if row else None

    @strawberry.field
    async def projects(self, info: Info, limit: int = 20, offset: int = 0) -> ProjectPage:
        """The caller's projects, newest first."""
        if not 1 <= limit <= 100 or offset < 0:
            raise ValidationFailedError("limit must be 1-100 and offset >= 0")
        principal = await info.context.principal()
        async with info.context.services.database.session() as session:
            rows, total = await visible_projects(session, principal, limit=limit, offset=offset)
        return ProjectPage(
            items=[_project(row, role) for row, role in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @strawberry.field
    async def project(self, info: Info, id: strawberry.ID) -> Project:
        """One project with its members, tracks, jobs and versions."""
        return await _load_project(info, str(id), ProjectRole.VIEWER)


async def _queue(info: Info, project_id: str, kind: str, params: dict[str, Any]) -> Job:
    principal = await info.context.principal()
    row, _reused = await queue_job(info.context.services, principal, project_id, kind, params)
    return Job.of(row)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_project(
        self,
        info: Info,
        name: str,
        description: str = "",
        bpm: float = DEFAULT_BPM,
        key: str | None = None,
        time_signature: str = DEFAULT_TIME_SIGNATURE,
    ) -> Project:
        """Create a project with its tempo (beats per minute), key and time signature;
        the caller becomes its owner. Checked as REST ``POST /api/v1/projects``."""
        try:
            body = ProjectCreate.model_validate(
                {
                    "name": name,
                    "description": description,
                    "bpm": bpm,
                    "key": key,
                    "time_signature": time_signature,
                }
            )
        except ValidationError as exc:
            raise ValidationFailedError(
                "the project is not valid", details=validation_details(exc)
            ) from None
        user = require_user(await info.context.principal())
        row = await create_owned_project(info.context.services, user, body)
        return _project(row, ProjectRole.OWNER)

    @strawberry.mutation
    async def generate_lyrics(
        self,
        info: Info,
        project_id: strawberry.ID,
        prompt: str,
        rhyme_scheme: str = "AABB",
        lines: int | None = None,
        syllables: list[int] | None = None,
        style: str | None = None,
        fit_to_track: strawberry.ID | None = None,
        seed: int = 0,
    ) -> Lyrics:
        """Suggest lines about ``prompt`` (editor or owner); checked and answered as REST
        ``POST /api/v1/ai/lyrics``, and written into the document's suggestions."""
        values: dict[str, Any] = {
            "project_id": str(project_id),
            "theme": prompt,
            "rhyme_scheme": rhyme_scheme,
            "lines": lines,
            "style": style,
            "fit_to_track": None if fit_to_track is None else str(fit_to_track),
            "seed": seed,
        }
        if syllables is not None:
            values["syllables"] = syllables[0] if len(syllables) == 1 else syllables
        try:
            body = LyricsIn.model_validate(values)
        except ValidationError as exc:
            raise ValidationFailedError(
                "the lyrics request is not valid", details=validation_details(exc)
            ) from None
        principal = await info.context.principal()
        return Lyrics.of(await generate_lyrics(info.context.services, principal, body))

    @strawberry.mutation
    async def request_mix(
        self, info: Info, project_id: strawberry.ID, preset: str | None = None
    ) -> Job:
        """Queue a mix of the project's tracks (editor or owner); without a preset, the one
        the caller chose for similar projects, else ``mix.preset`` or pop."""
        params: dict[str, Any] = {} if preset is None else {"preset": preset}
        return await _queue(info, str(project_id), "mixing", params)

    @strawberry.mutation
    async def request_master(
        self,
        info: Info,
        project_id: strawberry.ID,
        preset: str | None = None,
        target_lufs: float | None = None,
        ceiling_dbtp: float | None = None,
    ) -> Job:
        """Queue mastering of the latest mix (editor or owner); without a preset, the one
        the caller chose for similar projects, else streaming. Checked as REST
        ``POST /api/v1/ai/mastering``."""
        try:
            body = MasteringRequest.model_validate(
                {
                    "project_id": str(project_id),
                    "preset": preset,
                    "target_lufs": target_lufs,
                    "ceiling_dbtp": ceiling_dbtp,
                }
            )
        except ValidationError as exc:
            raise ValidationFailedError(
                "the mastering request is not valid", details=validation_details(exc)
            ) from None
        params: dict[str, Any] = body.model_dump(exclude_none=True)
        params.pop("project_id")
        return await _queue(info, str(project_id), "mastering", params)

    @strawberry.mutation
    async def request_export(
        self,
        info: Info,
        project_id: strawberry.ID,
        format: str = "stems",
        audio_format: str = "flac",
    ) -> Job:
        """Queue an export (editor or owner): ``stems`` (every track as arranged, in a zip)
        or ``midi``; checked as REST ``POST /api/v1/projects/{id}/exports``."""
        try:
            body = ExportRequest.model_validate({"format": format, "audio_format": audio_format})
        except ValidationError as exc:
            raise ValidationFailedError(
                "the export request is not valid", details=validation_details(exc)
            ) from None
        return await _queue(info, str(project_id), "export", body.model_dump(mode="json"))

    @strawberry.mutation
    async def name_version(self, info: Info, project_id: strawberry.ID, name: str) -> Version:
        """Name the document's current state (editor or owner), as REST ``POST .../versions``."""
        name = name.strip()
        if not 1 <= len(name) <= 200:
            raise ValidationFailedError(
                "name must be 1-200 characters", details=[{"field": "name", "message": "length"}]
            )
        principal = await info.context.principal()
        async with info.context.services.database.session() as session:
            await require_project_role(session, principal, str(project_id), ProjectRole.EDITOR)
        out = await versions.name_version(info.context.services, principal, str(project_id), name)
        return Version(**out.model_dump())

    @strawberry.mutation
    async def restore_version(
        self, info: Info, project_id: strawberry.ID, version_id: strawberry.ID
    ) -> RestoreResult:
        """Restore a version as a forward edit every peer receives (editor or owner)."""
        principal = await info.context.principal()
        async with info.context.services.database.session() as session:
            await require_project_role(session, principal, str(project_id), ProjectRole.EDITOR)
        out = await versions.restore_version(
            info.context.services, principal, str(project_id), str(version_id)
        )
        return RestoreResult(
            version=Version(**out.version.model_dump()),
            changes=cast(JSON, out.changes),
            backup_version_id=out.backup_version_id,
        )


class NoNulInStrings(ValidationRule):
    """Refuse U+0000 in string literals: PostgreSQL text cannot hold it (variables are
    refused with the JSON body, in :func:`api.http.parse_json`)."""

    def enter_string_value(self, node: StringValueNode, *_args: object) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("strings may not contain U+0000", node))


def _is_unexpected(error: GraphQLError) -> bool:
    """Mask errors that are neither answered by the error table (ours and the lower
    packages', :func:`api.error_table.api_error_for`) nor GraphQL's own validation errors."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, GraphQLError)
        and api_error_for(original) is None
    )


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            answer = api_error_for(original) if original is not None else None
            if answer is not None:
                # The same status, code and message REST answers for this error.
                error.message = answer.message
                error.extensions = {
                    **(error.extensions or {}),
                    "code": answer.code,
                    "status": answer.status,
                }
                if answer.details is not None:
                    error.extensions["details"] = answer.details
            elif _is_unexpected(error):
                super().process_errors([error], execution_context)


def build_schema() -> Schema:
    return Schema(
        query=merge_types("Query", (Query, AccountQuery)),
        mutation=merge_types("Mutation", (Mutation, AccountMutation)),
        extensions=[
            # Factories: each execution gets fresh extension state.
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: AddValidationRules([NoNulInStrings]),
            lambda: MaskErrors(should_mask_error=_is_unexpected, error_message="internal error"),
        ],
    )
