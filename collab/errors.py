"""The collaboration server's exception tree.

- :class:`CollabError`: root of every error raised by ``collab``.
  - :class:`PersistenceError`: the update log or snapshot store failed (never "new document").
  - :class:`RoomDeletedError`: the room's document was deleted (its project is gone).
  - :class:`ProtocolError`: a peer sent a malformed or oversized y-websocket message.
    - :class:`UnappliableUpdateError`: an update that decodes but cannot be applied.
      - :class:`MissingDependenciesError`: ... because it needs changes nobody sent yet.
  - :class:`FloodError`: a peer sent more than its share (presence traffic).
"""

from __future__ import annotations


class CollabError(Exception):
    """Root of every error raised by ``collab``."""


class PersistenceError(CollabError):
    """Reading or writing a document's update log or snapshot failed.

    Raised instead of pretending the document is new: a database fault must never
    look like an empty document.
    """


class RoomDeletedError(CollabError):
    """The room's document was deleted; it cannot be opened again in this process."""


class ProtocolError(CollabError):
    """A peer sent a message that is malformed, truncated or too large."""


class UnappliableUpdateError(ProtocolError):
    """An update decodes but cannot be applied, or depends on updates nobody has.

    Such an update is never stored or relayed: it would break the document for
    every peer (and every later load).
    """


class FloodError(CollabError):
    """A peer sent more than its share of traffic of some kind."""


class MissingDependenciesError(UnappliableUpdateError):
    """An update refers to structs the server does not hold (as a parent, an origin, or a
    deletion). A hostile peer sends such updates on purpose; an honest one only in a race
    (two tabs syncing through each other before the server), so it may retry after a
    resync."""
