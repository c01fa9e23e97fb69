"""GraphQL object types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from jacameno.api.db.models import Job as JobRow
from jacameno.api.db.models import Membership, ProjectRole
from jacameno.api.db.models import Track as TrackRow
from jacameno.api.db.models import User as UserRow
from jacameno.api.db.models import Version as VersionRow
from jacameno.api.routes.documents import document_state, document_view

if TYPE_CHECKING:
    from jacameno.api.graphql.context import Context

Role = strawberry.enum(ProjectRole, name="Role")


@strawberry.type
class User:
    id: str
    email: str
    display_name: str
    created_at: datetime
    #: The address was proven (an emailed link, or a provider that verified it).
    email_verified: bool = False
    #: False for an account made by a provider sign-in, until a password is set.
    has_password: bool = True

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            created_at=row.created_at,
            email_verified=row.email_verified,
            has_password=row.has_password,
        )


@strawberry.type
class Member:
    user: User
    role: Role  # type: ignore[valid-type]
    joined_at: datetime


@strawberry.type
class Track:
    id: str
    name: str
    kind: str
    asset_id: str | None
    created_at: datetime


@strawberry.type
class Job:
    id: str
    kind: str
    status: str
    progress: float
    params: JSON
    result: JSON | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: JobRow) -> Job:
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            progress=row.progress,
            params=cast(JSON, row.params),
            result=cast(JSON | None, row.result),
            error=row.error,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


@strawberry.type
class Lyrics:
    """A lyrics suggestion, as written into the document's ``lyrics_meta.suggestions``."""

    id: str
    kind: str
    lines: list[str]
    rhyme_scheme: str
    source: str
    syllables: list[int]
    notes: list[str]
    theme: str | None
    style: str | None

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> Lyrics:
        return cls(
            id=str(entry["id"]),
            kind=str(entry.get("kind", "suggestion")),
            lines=[str(line) for line in entry["lines"]],
            rhyme_scheme=str(entry["rhyme_scheme"]),
            source=str(entry["source"]),
            syllables=[int(count) for count in entry.get("syllables", [])],
            notes=[str(note) for note in entry.get("notes", [])],
            theme=entry.get("theme"),
            style=entry.get("style"),
        )


@strawberry.type
class Version:
    id: str
    name: str
    created_by: str | None
    created_at: datetime


@strawberry.type
class DocumentProblem:
    """A wrong shape a peer wrote into the document (``docs_model.validate``)."""

    path: str
    message: str


@strawberry.type
class RestoreResult:
    version: Version
    #: What the restore changed (``docs_model.diff_summary``).
    changes: JSON
    #: The version holding the state just before the restore (null when nothing changed).
    backup_version_id: str | None


@strawberry.type
class Project:
    """A project as the caller may see it (the caller's role is checked on the way in)."""

    id: str
    name: str
    description: str
    role: Role  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def members(self, info: strawberry.Info[Context, None]) -> list[Member]:
        async with info.context.services.database.session() as session:
            rows = await session.execute(
                select(Membership, UserRow)
                .join(UserRow, UserRow.id == Membership.user_id)
                .where(Membership.project_id == self.id)
                .order_by(Membership.created_at, UserRow.email)
            )
            return [
                Member(user=User.of(user), role=ProjectRole(m.role), joined_at=m.created_at)
                for m, user in rows
            ]

    @strawberry.field
    async def tracks(self, info: strawberry.Info[Context, None]) -> list[Track]:
        async with info.context.services.database.session() as session:
            rows = await session.execute(
                select(TrackRow).where(TrackRow.project_id == self.id).order_by(TrackRow.created_at)
            )
            return [
                Track(
                    id=t.id, name=t.name, kind=t.kind, asset_id=t.asset_id, created_at=t.created_at
                )
                for t in rows.scalars()
            ]

    @strawberry.field
    async def jobs(self, info: strawberry.Info[Context, None], limit: int = 50) -> list[Job]:
        limit = max(1, min(limit, 200))
        async with info.context.services.database.session() as session:
            rows = await session.execute(
                select(JobRow)
                .where(JobRow.project_id == self.id)
                .order_by(JobRow.created_at.desc())
                .limit(limit)
            )
            return [Job.of(row) for row in rows.scalars()]

    @strawberry.field
    async def versions(self, info: strawberry.Info[Context, None]) -> list[Version]:
        async with info.context.services.database.session() as session:
            rows = await session.execute(
                select(VersionRow.id, VersionRow.name, VersionRow.created_by, VersionRow.created_at)
                .where(VersionRow.project_id == self.id)
                .order_by(VersionRow.created_at.desc())
            )
            return [
                Version(id=r.id, name=r.name, created_by=r.created_by, created_at=r.created_at)
                for r in rows
            ]

    @strawberry.field
    async def document(self, info: strawberry.Info[Context, None]) -> JSON:
        """The live document as JSON (``docs_model.to_json``), as REST ``GET .../document``."""
        view = document_view(self.id, await document_state(info.context.services, self.id))
        return cast(JSON, view.document)

    @strawberry.field
    async def document_problems(
        self, info: strawberry.Info[Context, None]
    ) -> list[DocumentProblem]:
        """Wrong shapes peers wrote into the document; reads skip or repair them."""
        view = document_view(self.id, await document_state(info.context.services, self.id))
        return [DocumentProblem(path=p.path, message=p.message) for p in view.problems]


@strawberry.type
class ProjectPage:
    items: list[Project]
    total: int
    limit: int
    offset: int
