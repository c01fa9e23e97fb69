"""A room's awareness (presence: cursors, playheads, names), as the server keeps it.

The server holds the newest state per client so that a late joiner gets every
current state at once, and it forwards only entries that are new by the
y-protocols rule (a higher clock, or the same clock turning into a removal).
y-websocket 3 clients re-send awareness they receive; dropping those echoes
here is what keeps a 100-client room from costing N³ frames.
"""

from __future__ import annotations

import json

from collab.errors import ProtocolError
from collab.protocol import AwarenessEntry, decode_awareness, encode_awareness

#: Largest accepted awareness state of one client, in bytes of JSON.
MAX_STATE_BYTES = 64 * 1024


class RoomAwareness:
    """Newest awareness entry per client id, and which connection owns which client."""

    def __init__(self) -> None:
        self._entries: dict[int, AwarenessEntry] = {}
        self._owner: dict[int, int] = {}

    def __len__(self) -> int:
        return sum(1 for entry in self._entries.values() if not entry.removed)

    def apply(self, payload: bytes, connection_id: int) -> bytes | None:
        """Take an incoming awareness update; return what to forward, or None if nothing is new.

        Raises :class:`ProtocolError` for malformed payloads or states that are not JSON.
        """
        fresh: list[AwarenessEntry] = []
        for entry in decode_awareness(payload):
            if len(entry.state_json) > MAX_STATE_BYTES:
                raise ProtocolError(f"awareness state over {MAX_STATE_BYTES} bytes")
            try:
                json.loads(entry.state_json)
            except ValueError:
                raise ProtocolError("awareness state is not valid JSON") from None
            current = self._entries.get(entry.client_id)
            newer = current is None or entry.clock > current.clock
            removal = (
                current is not None
                and entry.clock == current.clock
                and entry.removed
                and not current.removed
            )
            if not (newer or removal):
                continue
            self._entries[entry.client_id] = entry
            if entry.removed:
                self._owner.pop(entry.client_id, None)
            else:
                self._owner[entry.client_id] = connection_id
            fresh.append(entry)
        return encode_awareness(fresh) if fresh else None

    def snapshot(self) -> bytes | None:
        """Every live client's state as one awareness update, or None when there is none."""
        live = [entry for entry in self._entries.values() if not entry.removed]
        return encode_awareness(live) if live else None

    def drop_connection(self, connection_id: int) -> bytes | None:
        """Mark the clients a closed connection owned as gone; return the removal to forward."""
        gone = [client for client, owner in self._owner.items() if owner == connection_id]
        removals = []
        for client in gone:
            del self._owner[client]
            previous = self._entries[client]
            removal = AwarenessEntry(client, previous.clock + 1, "null")
            self._entries[client] = removal
            removals.append(removal)
        return encode_awareness(removals) if removals else None
