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

In one process this calls the room server directly. (With several processes,
the same events must reach every process: the scale-out relay carries them.)
"""

from __future__ import annotations

from jacameno.api.auth.actors import Actor
from jacameno.api.auth.permissions import role_allows
from jacameno.api.auth.principal import ApiKeyPrincipal, Principal
from jacameno.api.db.models import ProjectRole
from jacameno.collab.access import Grant
from jacameno.collab.channel import CloseCode
from jacameno.collab.server import RoomServer


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

    def __init__(self, rooms: RoomServer) -> None:
        self._rooms = rooms

    def session_ended(self, *, token_ids: tuple[str, ...], family_ids: tuple[str, ...]) -> int:
        """A logout or a revoked refresh-token family: close the session's sockets."""
        credentials = [f"token:{t}" for t in token_ids] + [family_credential(f) for f in family_ids]
        return sum(self._rooms.revoke(c, reason="signed out: sign in again") for c in credentials)

    def api_key_revoked(self, key_id: str) -> int:
        return self._rooms.revoke(api_key_credential(key_id), reason="this API key was revoked")

    def member_removed(self, project_id: str, user_id: str) -> int:
        return self._rooms.revoke(
            user_credential(user_id),
            code=CloseCode.NOT_FOUND,
            reason="you are no longer a member of this project",
            room=project_id,
        )

    def member_role_changed(self, project_id: str, user_id: str, role: ProjectRole) -> int:
        """Demote a member's sockets to read-only (or make them writable) at once."""
        return self._rooms.set_write_access(
            project_id,
            user_credential(user_id),
            can_write=role_allows(role, ProjectRole.EDITOR),
        )

    async def project_deleted(self, project_id: str) -> None:
        """Close the project's sockets and delete its document (log, snapshot, quarantine)."""
        await self._rooms.delete_room(project_id)
