"""Membership changes that race, each settled by the database in one conditional statement.

Two owners demoting each other or leaving at the same moment must not leave a project
without an owner, and eight people accepting one invite must not all join. So no
change here reads a row and then writes it: the rule is in the statement's WHERE and
the caller looks at how many rows it touched.

- PostgreSQL (READ COMMITTED) evaluates a statement's subqueries against the snapshot
  the statement started with, so two demotions could each still see the other owner.
  :func:`lock_project` first takes the project row (``FOR NO KEY UPDATE``: inserts of
  rows that reference the project are not blocked), which queues every owner-reducing
  change of one project behind the other; the statement then sees the committed state.
- SQLite has one writer at a time and the driver opens the write transaction at the
  first write statement, so one statement reads and writes under the same lock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    case,
    delete,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from jacameno.api.auth.permissions import roles_below
from jacameno.api.db.models import Invite, Membership, Project, ProjectRole

_NO_SYNC = {"synchronize_session": False}


async def _rows_changed(session: AsyncSession, statement: Executable) -> int:
    result = await session.execute(statement, execution_options=_NO_SYNC)
    return cast(CursorResult[Any], result).rowcount


async def lock_project(session: AsyncSession, project_id: str) -> None:
    """Queue this transaction behind any other that changes the project's owners.

    A no-op on SQLite, whose single conditional statements are atomic by themselves.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(Project.id).where(Project.id == project_id).with_for_update(key_share=True)
        )


def _keeps_an_owner(project_id: str, user_id: str) -> ColumnElement[bool]:
    """SQL: the member is not an owner, or another owner of the project remains."""
    other = aliased(Membership)
    another_owner = exists().where(
        other.project_id == project_id,
        other.role == ProjectRole.OWNER.value,
        other.user_id != user_id,
    )
    return or_(Membership.role != ProjectRole.OWNER.value, another_owner)


def _member(project_id: str, user_id: str, roles: Collection[ProjectRole]) -> ColumnElement[bool]:
    return (
        (Membership.project_id == project_id)
        & (Membership.user_id == user_id)
        & Membership.role.in_([role.value for role in roles])
    )


async def set_role(
    session: AsyncSession,
    project_id: str,
    user_id: str,
    role: ProjectRole,
    *,
    from_roles: Collection[ProjectRole] = tuple(ProjectRole),
) -> bool:
    """Give a member ``role`` if their role now is one of ``from_roles`` and the project
    keeps an owner; False when nothing changed (call :func:`lock_project` first)."""
    condition = _member(project_id, user_id, from_roles)
    if role is not ProjectRole.OWNER:
        condition = condition & _keeps_an_owner(project_id, user_id)
    statement = update(Membership).where(condition).values(role=role.value)
    return await _rows_changed(session, statement) == 1


async def remove_membership(
    session: AsyncSession,
    project_id: str,
    user_id: str,
    *,
    from_roles: Collection[ProjectRole] = tuple(ProjectRole),
) -> bool:
    """Remove a member whose role is one of ``from_roles`` if the project keeps an owner;
    False when nothing was removed (call :func:`lock_project` first)."""
    condition = _member(project_id, user_id, from_roles) & _keeps_an_owner(project_id, user_id)
    return await _rows_changed(session, delete(Membership).where(condition)) == 1


async def member_role(session: AsyncSession, project_id: str, user_id: str) -> ProjectRole | None:
    """A member's role as the database has it now (None for a non-member)."""
    role = (
        await session.execute(
            select(Membership.role).where(
                Membership.project_id == project_id, Membership.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    return ProjectRole(role) if role is not None else None


async def claim_invite(session: AsyncSession, invite_id: str, user_id: str, now: datetime) -> bool:
    """Mark the invite used by ``user_id`` if it is unused and unexpired at ``now``; True
    for exactly one of any number of concurrent claims."""
    statement = (
        update(Invite)
        .where(Invite.id == invite_id, Invite.accepted_at.is_(None), Invite.expires_at > now)
        .values(accepted_at=now, accepted_by=user_id)
    )
    return await _rows_changed(session, statement) == 1


async def grant_role(
    session: AsyncSession, project_id: str, user_id: str, role: ProjectRole
) -> ProjectRole:
    """Make the user a member with at least ``role`` (never a demotion); their role now.

    One upsert: a concurrent grant, promotion or removal cannot slip between a check
    for the membership and the write.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    joined = insert(Membership).values(project_id=project_id, user_id=user_id, role=role.value)
    promoted = case(
        (Membership.role.in_([r.value for r in roles_below(role)]), role.value),
        else_=Membership.role,
    )
    statement = joined.on_conflict_do_update(
        index_elements=[Membership.project_id, Membership.user_id], set_={"role": promoted}
    ).returning(Membership.role)
    return ProjectRole((await session.execute(statement)).scalar_one())
