"""The only thing a room knows about a socket: a ``Channel``; and the close codes it uses."""

from __future__ import annotations

from enum import IntEnum
from typing import Protocol

from jacameno.collab.errors import CollabError


class CloseCode(IntEnum):
    """WebSocket close codes of ``/collab/{project_id}`` (documented in the README).

    Standard codes where one fits; 4xxx codes (private use) mirror HTTP statuses.
    """

    #: The server is shutting down; reconnect (to another instance).
    GOING_AWAY = 1001
    #: A message exceeded the configured maximum size.
    MESSAGE_TOO_BIG = 1009
    #: The server failed unexpectedly while serving this connection.
    INTERNAL_ERROR = 1011
    #: The server is restarting; reconnect shortly.
    SERVICE_RESTART = 1012
    #: A malformed, truncated or undecodable protocol message.
    MALFORMED = 4400
    #: No token, or an invalid, expired or revoked one.
    UNAUTHORIZED = 4401
    #: The caller has no access to this project.
    FORBIDDEN = 4403
    #: No such project.
    NOT_FOUND = 4404
    #: The client did not keep up with the room; reconnect to resync.
    TOO_SLOW = 4408
    #: Too many connection attempts, or too much presence traffic; retry later.
    RATE_LIMITED = 4429
    #: An update depended on changes the server has not received: reconnect to resync
    #: (y-websocket treats 4500-4599 as transient).
    RESYNC = 4500
    #: The document store is unavailable; retry later.
    UNAVAILABLE = 4503


class ChannelClosedError(CollabError):
    """The peer closed the channel (or it broke)."""


class Channel(Protocol):
    """A message-oriented duplex connection to one peer."""

    @property
    def remote(self) -> str:
        """Who is on the other side, for logs (address, never a token)."""
        ...

    async def receive(self) -> bytes:
        """The next binary message; raises :class:`ChannelClosedError` when the peer is gone."""
        ...

    def send_now(self, message: bytes) -> bool:
        """Send one binary message at once if that needs no waiting; False if nothing was sent.

        The fan-out's fast path: on False the caller uses :meth:`send`.
        """
        ...

    async def send(self, message: bytes) -> None:
        """Send one binary message; raises :class:`ChannelClosedError` when the peer is gone."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code`` and a short ``reason``; safe to call more than once."""
        ...
