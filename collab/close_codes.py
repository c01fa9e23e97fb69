"""The one table that turns an error into a WebSocket close code of ``/collab/{project_id}``.

The room server closes connections for ``collab``'s own errors, and the API route
refuses upgrades for its HTTP errors; both ask :func:`close_for` here, so a given
fault closes with the same code wherever it is met. The codes themselves are
:class:`~collab.channel.CloseCode` (4xxx mirror HTTP statuses, 4500-4599 are
"retry", as y-websocket reads them).

``collab`` cannot import ``api``: an HTTP error is recognised by its ``status``
(:class:`HttpStatusError`), not by its class.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol, runtime_checkable

from jacameno.collab.channel import CloseCode
from jacameno.collab.errors import (
    FloodError,
    MissingDependenciesError,
    PersistenceError,
    ProtocolError,
    RoomDeletedError,
)

#: Close reasons are short: the WebSocket close frame holds at most 123 bytes of reason.
MAX_REASON_CHARS = 120
#: Close reason for a connection whose project was deleted.
DELETED_REASON = "the project was deleted"
#: Close reason while the server stops (the client reconnects, maybe to another instance).
RESTART_REASON = "server restarting; reconnect"


class Close(NamedTuple):
    """How to close a connection: the code and a short reason for the peer."""

    code: CloseCode
    reason: str


@runtime_checkable
class HttpStatusError(Protocol):
    """An error that carries the HTTP status it answers (``api.errors.ApiError``)."""

    status: int
    message: str


#: ``collab`` errors, most specific first; ``None`` as reason sends the error's message.
COLLAB_CLOSES: tuple[tuple[type[Exception], CloseCode, str | None], ...] = (
    (RoomDeletedError, CloseCode.NOT_FOUND, DELETED_REASON),
    (PersistenceError, CloseCode.UNAVAILABLE, "document store unavailable; retry"),
    # Before ProtocolError, its parent: an honest peer in a race; a resync fixes it.
    (MissingDependenciesError, CloseCode.RESYNC, None),
    (ProtocolError, CloseCode.MALFORMED, None),
    (FloodError, CloseCode.RATE_LIMITED, None),
)

#: HTTP statuses of refused upgrades (when the server cannot answer them in HTTP).
HTTP_CLOSES: dict[int, CloseCode] = {
    400: CloseCode.MALFORMED,
    401: CloseCode.UNAUTHORIZED,
    403: CloseCode.FORBIDDEN,
    404: CloseCode.NOT_FOUND,
    413: CloseCode.MESSAGE_TOO_BIG,
    429: CloseCode.RATE_LIMITED,
    503: CloseCode.UNAVAILABLE,
}


def close_for(exc: BaseException) -> Close:
    """The close code and reason that answer ``exc``.

    A ``collab`` error by :data:`COLLAB_CLOSES`, an HTTP error by its status
    (:data:`HTTP_CLOSES`; any other 4xx is a refusal, 4403), anything else
    :attr:`CloseCode.INTERNAL_ERROR` without internals in the reason.
    """
    for kind, code, reason in COLLAB_CLOSES:
        if isinstance(exc, kind):
            return Close(code, (reason or str(exc))[:MAX_REASON_CHARS])
    if isinstance(exc, HttpStatusError):
        fallback = CloseCode.FORBIDDEN if 400 <= exc.status < 500 else CloseCode.INTERNAL_ERROR
        return Close(HTTP_CLOSES.get(exc.status, fallback), exc.message[:MAX_REASON_CHARS])
    return Close(CloseCode.INTERNAL_ERROR, "internal error")


def close_code_for(exc: BaseException) -> CloseCode:
    """The close code of :func:`close_for`."""
    return close_for(exc).code
