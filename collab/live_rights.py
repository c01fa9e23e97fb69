"""Rights that change while connections are open: revoked credentials, changed roles.

:meth:`collab.server.RoomServer.revoke` and :meth:`~collab.server.RoomServer.set_write_access`
apply these to the connections of one room (or every room) at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from jacameno.collab.connection import Connection


def revoke_credential(
    connections: Iterable[Connection], credential: str, *, code: int, reason: str
) -> int:
    """Close every connection whose grant rests on ``credential``; how many were closed."""
    closed = 0
    for connection in connections:
        if credential in connection.grant.credentials and not connection.closing:
            connection.close(code, reason)
            closed += 1
    return closed


def set_write_access(connections: Iterable[Connection], actor: str, *, can_write: bool) -> int:
    """Make ``actor``'s connections read-only (or writable again); how many changed."""
    changed = 0
    for connection in connections:
        if connection.grant.actor == actor and connection.grant.can_write != can_write:
            connection.grant = connection.grant.with_write(can_write)
            connection.told_read_only = False
            changed += 1
    return changed
