"""The GraphQL schema: queries and mutations over the same permission check as REST."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from graphql import GraphQLError
from graphql.language import StringValueNode
from graphql.validation import ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext

from jacameno.api.analytics import EventKind, record_event
from jacameno.api.auth.permissions import require_project_role, require_user, visible_projects
from jacameno.api.auth.principal import ApiKeyPrincipal
from jacameno.api.db.models import Membership, ProjectRole
from jacameno.api.db.models import Project as ProjectRow
from jacameno.api.db.models import User as UserRow
from jacameno.api.errors import ApiError, ValidationFailedError
from jacameno.api.graphql.context import Context
from jacameno.api.graphql.types import Job, Project, ProjectPage, RestoreResult, User, Version
from jacameno.api.jobs import queue_job
from jacameno.api.routes import versions
from jacameno.api.routes.projects import initialise_document

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
    async def create_project(self, info: Info, name: str, description: str = "") -> Project:
        """Create a project; the caller becomes its owner."""
        name = name.strip()
        if not 1 <= len(name) <= 200 or len(description) > 5000:
            raise ValidationFailedError("name must be 1-200 characters, description <= 5000")
        user = require_user(await info.context.principal())
        async with info.context.services.database.session() as session:
            row = ProjectRow(name=name, description=description, created_by=user.user_id)
            session.add(row)
            await session.flush()
            session.add(
                Membership(project_id=row.id, user_id=user.user_id, role=ProjectRole.OWNER.value)
            )
            record_event(
                session, EventKind.PROJECT_CREATED, project_id=row.id, user_id=user.user_id
            )
        await initialise_document(info.context.services, row.id, row.name)
        return _project(row, ProjectRole.OWNER)

    @strawberry.mutation
    async def generate_lyrics(
        self, info: Info, project_id: strawberry.ID, prompt: str, style: str | None = None
    ) -> Job:
        """Queue lyric generation (editor or owner)."""
        params: dict[str, Any] = {"prompt": prompt}
        if style is not None:
            params["style"] = style
        return await _queue(info, str(project_id), "lyrics", params)

    @strawberry.mutation
    async def request_mix(self, info: Info, project_id: strawberry.ID, preset: str = "pop") -> Job:
        """Queue a mix of the project's tracks (editor or owner)."""
        return await _queue(info, str(project_id), "mixing", {"preset": preset})

    @strawberry.mutation
    async def request_master(
        self,
        info: Info,
        project_id: strawberry.ID,
        preset: str = "streaming",
        target_lufs: float | None = None,
        ceiling_dbtp: float | None = None,
    ) -> Job:
        """Queue mastering of the latest mix (editor or owner)."""
        params: dict[str, Any] = {"preset": preset}
        if target_lufs is not None:
            params["target_lufs"] = target_lufs
        if ceiling_dbtp is not None:
            params["ceiling_dbtp"] = ceiling_dbtp
        return await _queue(info, str(project_id), "mastering", params)

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
    """Mask errors that are neither ours (ApiError) nor GraphQL's own validation errors."""
    original = error.original_error
    return original is not None and not isinstance(original, ApiError | GraphQLError)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if isinstance(original, ApiError):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": original.code,
                    "status": original.status,
                }
                if original.details is not None:
                    error.extensions["details"] = original.details
            elif _is_unexpected(error):
                super().process_errors([error], execution_context)


def build_schema() -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            # Factories: each execution gets fresh extension state.
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: AddValidationRules([NoNulInStrings]),
            lambda: MaskErrors(should_mask_error=_is_unexpected, error_message="internal error"),
        ],
    )
