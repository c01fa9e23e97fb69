"""Rights that follow changes live: grants for new sockets, and what ends or narrows them.

A collaboration socket is authorised once, before it is accepted, and gets a
:class:`~collab.access.Grant`. Every later change to what that caller may do
reaches its open sockets here, right after the change is committed:

| change                                   | open sockets                          |
|------------------------------------------|---------------------------------------|
| logout, refresh-token reuse              | that session's sockets close (4401)   |
| API key revoked                          | the key's sockets close (4401)        |
| member removed (or left)                 | their sockets to the project close (4404) |
| member demoted to viewer / promoted      | read-only / writable at once          |
| project deleted                          | every socket closes (4404), document gone |
| access token expires                     | the socket closes at that second (4401) |

Each change is applied to this process's room server at once and handed to a
:class:`LivePublisher`: with Redis configured, :mod:`api.live_bus` carries it to
every other ``jacameno serve`` process, which applies it through
:meth:`LiveAccess.apply_remote` (the same code, without telling anyone again).
Without one, changes stay in this process, as with a single server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from jacameno.api.auth.actors import Actor
from jacameno.api.auth.permissions import role_allows
from jacameno.api.auth.principal import ApiKeyPrincipal, Principal
from jacameno.api.db.models import ProjectRole
from jacameno.collab.access import Grant
from jacameno.collab.channel import CloseCode
from jacameno.collab.server import RoomServer

#: Close reasons, the same on every process (clients show them).
SIGNED_OUT_REASON = "signed out: sign in again"
KEY_REVOKED_REASON = "this API key was revoked"
MEMBER_REMOVED_REASON = "you are no longer a member of this project"


class LivePublisher(Protocol):
    """Tells the other processes about a change (see :mod:`api.live_bus`)."""

    def publish(self, action: str, fields: Mapping[str, Any]) -> None:
        """Queue ``action`` with its JSON-ready ``fields``; never blocks, never raises."""
        ...


class RemoteChangeError(ValueError):
    """A change from another process that this one cannot read (it is dropped)."""


def grant_for(principal: Principal, role: ProjectRole) -> Grant:
    """The grant of a socket opened by ``principal`` holding ``role`` in the project."""
    can_write = role_allows(role, ProjectRole.EDITOR)
    if isinstance(principal, ApiKeyPrincipal):
        return Grant(
            actor=principal.actor,
            can_write=can_write,
            credentials=frozenset({api_key_credential(principal.key_id)}),
        )
    return Grant(
        actor=principal.actor,
        can_write=can_write,
        expires_at=float(principal.expires_at),
        credentials=frozenset(
            {
                user_credential(principal.user_id),
                f"token:{principal.token_id}",
                family_credential(principal.family_id),
            }
        ),
    )


def user_credential(user_id: str) -> str:
    """The credential every socket of a user carries: their actor string."""
    return str(Actor.user(user_id))


def family_credential(family_id: str) -> str:
    return f"family:{family_id}"


def api_key_credential(key_id: str) -> str:
    """The credential of a bot's sockets: its API key's actor string."""
    return str(Actor.api_key(key_id))


class LiveAccess:
    """Applies access changes to the sockets that are open (see the module doc)."""

    def __init__(self, rooms: RoomServer, publisher: LivePublisher | None = None) -> None:
        self._rooms = rooms
        self._publisher = publisher

    def _tell(self, action: str, **fields: Any) -> None:
        if self._publisher is not None:
            self._publisher.publish(action, fields)

    def session_ended(self, *, token_ids: tuple[str, ...], family_ids: tuple[str, ...]) -> int:
        """A logout or a revoked refresh-token family: close the session's sockets."""
        self._tell("session_ended", token_ids=list(token_ids), family_ids=list(family_ids))
        return self._session_ended(token_ids, family_ids)

    def api_key_revoked(self, key_id: str) -> int:
        self._tell("api_key_revoked", key_id=key_id)
        return self._api_key_revoked(key_id)

    def member_removed(self, project_id: str, user_id: str) -> int:
        self._tell("member_removed", project_id=project_id, user_id=user_id)
        return self._member_removed(project_id, user_id)

    def member_role_changed(self, project_id: str, user_id: str, role: ProjectRole) -> int:
        """Demote a member's sockets to read-only (or make them writable) at once."""
        self._tell("member_role_changed", project_id=project_id, user_id=user_id, role=role.value)
        return self._member_role_changed(project_id, user_id, role)

    async def project_deleted(self, project_id: str) -> None:
        """Close the project's sockets and delete its document (log, snapshot, quarantine).

        The other processes are told first: the project's rows are gone already, so
        their sockets close even if this process cannot delete the document yet.
        """
        self._tell("project_deleted", project_id=project_id)
        await self._rooms.delete_room(project_id)

    async def apply_remote(self, action: str, fields: Mapping[str, Any]) -> None:
        """Apply a change another process made (and published) to this process only.

        Raises :class:`RemoteChangeError` for an action or fields it cannot read.
        """
        try:
            if action == "session_ended":
                self._session_ended(_texts(fields, "token_ids"), _texts(fields, "family_ids"))
            elif action == "api_key_revoked":
                self._api_key_revoked(_text(fields, "key_id"))
            elif action == "member_removed":
                self._member_removed(_text(fields, "project_id"), _text(fields, "user_id"))
            elif action == "member_role_changed":
                role = ProjectRole(_text(fields, "role"))
                self._member_role_changed(
                    _text(fields, "project_id"), _text(fields, "user_id"), role
                )
            elif action == "project_deleted":
                await self._rooms.delete_room(_text(fields, "project_id"))
            else:
                raise RemoteChangeError(f"unknown live access action {action!r}")
        except RemoteChangeError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteChangeError(f"unreadable {action!r} change: {exc}") from exc

    # ------------------------------------------------------------------ this process

    def _session_ended(self, token_ids: Sequence[str], family_ids: Sequence[str]) -> int:
        credentials = [f"token:{t}" for t in token_ids] + [family_credential(f) for f in family_ids]
        return sum(self._rooms.revoke(c, reason=SIGNED_OUT_REASON) for c in credentials)

    def _api_key_revoked(self, key_id: str) -> int:
        return self._rooms.revoke(api_key_credential(key_id), reason=KEY_REVOKED_REASON)

    def _member_removed(self, project_id: str, user_id: str) -> int:
        return self._rooms.revoke(
            user_credential(user_id),
            code=CloseCode.NOT_FOUND,
            reason=MEMBER_REMOVED_REASON,
            room=project_id,
        )

    def _member_role_changed(self, project_id: str, user_id: str, role: ProjectRole) -> int:
        return self._rooms.set_write_access(
            project_id,
            user_credential(user_id),
            can_write=role_allows(role, ProjectRole.EDITOR),
        )


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str) or not value:
        raise RemoteChangeError(f"{name!r} is not a non-empty string")
    return value


def _texts(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    values = fields[name]
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise RemoteChangeError(f"{name!r} is not a list of non-empty strings")
    return tuple(values)
