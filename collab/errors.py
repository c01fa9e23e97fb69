"""The collaboration server's exception tree.

- :class:`CollabError`: root of every error raised by ``collab``.
  - :class:`PersistenceError`: the update log or snapshot store failed (never "new document").
  - :class:`ProtocolError`: a peer sent a malformed or oversized y-websocket message.
"""

from __future__ import annotations


class CollabError(Exception):
    """Root of every error raised by ``collab``."""


class PersistenceError(CollabError):
    """Reading or writing a document's update log or snapshot failed.

    Raised instead of pretending the document is new: a database fault must never
    look like an empty document.
    """


class ProtocolError(CollabError):
    """A peer sent a message that is malformed, truncated or too large."""
