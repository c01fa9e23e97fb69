"""Where a :class:`~collab.client.CollabClient` connects, how the server turns it away,
and what it may raise."""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit, urlunsplit

from jacameno.collab.channel import CloseCode
from jacameno.collab.close_codes import HTTP_CLOSES
from jacameno.collab.errors import CollabError

#: Close codes after which reconnecting cannot help.
FATAL_CLOSE_CODES = frozenset(
    {
        CloseCode.UNAUTHORIZED,
        CloseCode.FORBIDDEN,
        CloseCode.NOT_FOUND,
        CloseCode.MALFORMED,
        CloseCode.MESSAGE_TOO_BIG,
    }
)
#: HTTP refusals of the upgrade request, as the close codes they stand for: the server's
#: own table (collab.close_codes), so a refusal means the same whichever way it arrives.
REFUSAL_CODES = HTTP_CLOSES


class ClientRefusedError(CollabError):
    """The server refused this client (bad token, no access, no such project, a message
    over its size limit); reconnecting will not help."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"server refused the connection: {code} {reason}")
        self.code = code
        self.reason = reason


class NotStoredError(CollabError):
    """`CollabClient.flush` timed out: the server has not stored this client's edits."""


def refusal_reason(body: bytes | bytearray | None) -> str:
    """The message of the server's JSON error envelope, or "" if the body is not one."""
    try:
        message = json.loads(body or b"")["error"]["message"]
    except (ValueError, TypeError, KeyError):
        return ""
    return str(message)


def collab_url(base_url: str, project_id: str) -> str:
    """``ws(s)://host/collab/<project_id>`` for a server's ``http(s)://`` (or ``ws(s)://``)
    base URL."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"base_url must be http(s):// or ws(s)://, got {base_url!r}")
    path = f"{parts.path.rstrip('/')}/collab/{quote(project_id, safe='')}"
    return urlunsplit((scheme, parts.netloc, path, "", ""))
