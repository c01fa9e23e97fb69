"""A room's awareness (presence: cursors, playheads, names), as the server keeps it.

The server holds the newest state per client so that a late joiner gets every
current state at once, and it forwards only entries that are new by the
y-protocols rule (a higher clock, or the same clock turning into a removal).
y-websocket 3 clients re-send awareness they receive; dropping those echoes
here is what keeps a 100-client room from costing N³ frames.

Every cost a peer can cause is capped (see :class:`~collab.config.CollabConfig`):
entries per message, bytes per state, client ids per connection, live states
and their bytes per room. A client id belongs to the connection that first set
a state for it: others cannot overwrite or remove it (their echoes are dropped).
States that are not renewed expire, and removed entries are forgotten once
their echoes can no longer arrive, so memory follows the peers present.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from jacameno.collab.config import CollabConfig
from jacameno.collab.errors import ProtocolError
from jacameno.collab.protocol import AwarenessEntry, decode_awareness, encode_awareness

#: The owner of states relayed from other server processes (connection ids are >= 0):
#: not held to one connection's cap, and taken over by a local connection that claims
#: the client (a peer that reconnected here).
REMOTE_OWNER = -1


@dataclass(slots=True)
class _Held:
    entry: AwarenessEntry
    #: The connection that owns the client id (None once removed).
    owner: int | None
    #: time.monotonic() of the last change (renewal, removal).
    seen: float


@dataclass
class AwarenessCounters:
    """What the room's awareness refused or dropped (exported as metrics)."""

    duplicates: int = 0
    foreign: int = 0
    over_room_cap: int = 0
    expired: int = 0


class RoomAwareness:
    """Newest awareness entry per client id, and which connection owns which client."""

    def __init__(self, config: CollabConfig | None = None) -> None:
        self._config = config or CollabConfig()
        self._held: dict[int, _Held] = {}
        self._owned: dict[int, set[int]] = {}
        #: Removed client ids, oldest removal first: kept only to drop late echoes.
        self._removed: dict[int, float] = {}
        self._live = 0
        self._live_bytes = 0
        self.counters = AwarenessCounters()

    def __len__(self) -> int:
        return self._live

    @property
    def tracked(self) -> int:
        """Client ids remembered, live or recently removed."""
        return len(self._held)

    def apply(
        self, payload: bytes, connection_id: int, *, now: float | None = None
    ) -> bytes | None:
        """Take an incoming awareness update; return what to forward, or None if nothing is new.

        Raises :class:`ProtocolError` for malformed payloads, too many entries, states
        that are too big or not JSON, or a connection claiming too many client ids.
        """
        config = self._config
        now = time.monotonic() if now is None else now
        entries = decode_awareness(payload, max_entries=config.awareness_max_entries)
        fresh: list[AwarenessEntry] = []
        for entry in entries:
            held = self._held.get(entry.client_id)
            if held is None and entry.removed:
                self.counters.duplicates += 1  # nobody holds a state to remove
                continue
            if held is not None and not _is_newer(entry, held.entry):
                self.counters.duplicates += 1  # an echo, or stale
                continue
            if held is not None and held.owner not in (None, connection_id, REMOTE_OWNER):
                self.counters.foreign += 1  # another connection's client
                continue
            if not entry.removed:
                _check_state(entry, config.awareness_max_state_bytes)
                if not self._admit(entry, held, connection_id):
                    continue
            self._store(entry, held, connection_id, now)
            fresh.append(entry)
        return encode_awareness(fresh) if fresh else None

    def _admit(self, entry: AwarenessEntry, held: _Held | None, connection_id: int) -> bool:
        """Whether a live state fits the caps (raises when this connection claims too many)."""
        config = self._config
        owned = self._owned.get(connection_id, set())
        if (
            connection_id != REMOTE_OWNER
            and entry.client_id not in owned
            and len(owned) >= config.awareness_max_clients_per_connection
        ):
            raise ProtocolError(
                f"awareness for more than {config.awareness_max_clients_per_connection}"
                " client ids on one connection"
            )
        was_live = held is not None and not held.entry.removed
        old_bytes = len(held.entry.state_json) if was_live and held is not None else 0
        growth = len(entry.state_json) - old_bytes
        if (not was_live and self._live >= config.awareness_max_room_states) or (
            growth > 0 and self._live_bytes + growth > config.awareness_max_room_bytes
        ):
            self.counters.over_room_cap += 1
            return False
        return True

    def _store(
        self, entry: AwarenessEntry, held: _Held | None, connection_id: int, now: float
    ) -> None:
        if held is not None and not held.entry.removed:
            self._live -= 1
            self._live_bytes -= len(held.entry.state_json)
            if held.owner is not None:
                self._owned.get(held.owner, set()).discard(entry.client_id)
        owner = None if entry.removed else connection_id
        self._held[entry.client_id] = _Held(entry, owner, now)
        self._removed.pop(entry.client_id, None)
        if owner is None:
            self._remember_removal(entry.client_id, now)
        else:
            self._live += 1
            self._live_bytes += len(entry.state_json)
            self._owned.setdefault(owner, set()).add(entry.client_id)

    def _remember_removal(self, client: int, now: float) -> None:
        self._removed[client] = now
        # Bounded: a peer cycling through client ids must not grow this without end.
        while len(self._removed) > 2 * self._config.awareness_max_room_states:
            oldest = next(iter(self._removed))
            del self._removed[oldest]
            del self._held[oldest]

    def snapshot(self) -> bytes | None:
        """Every live client's state as one awareness update, or None when there is none."""
        live = [held.entry for held in self._held.values() if not held.entry.removed]
        return encode_awareness(live) if live else None

    def drop_connection(self, connection_id: int, *, now: float | None = None) -> bytes | None:
        """Mark the clients a closed connection owned as gone; return the removal to forward."""
        now = time.monotonic() if now is None else now
        removals = [
            self._remove(client, now) for client in sorted(self._owned.pop(connection_id, ()))
        ]
        return encode_awareness(removals) if removals else None

    def expire(self, *, now: float | None = None) -> bytes | None:
        """Remove states not renewed within the timeout and forget old removals.

        Returns the removals to forward, or None.
        """
        now = time.monotonic() if now is None else now
        deadline = now - self._config.awareness_timeout_s
        while self._removed:
            # Echoes of these removals are long past: forget the client ids.
            oldest, removed_at = next(iter(self._removed.items()))
            if removed_at > deadline:
                break
            del self._removed[oldest]
            del self._held[oldest]
        removals: list[AwarenessEntry] = []
        for client, held in list(self._held.items()):
            if held.entry.removed or held.seen > deadline:
                continue
            if held.owner is not None:
                self._owned.get(held.owner, set()).discard(client)
            removals.append(self._remove(client, now))
            self.counters.expired += 1
        return encode_awareness(removals) if removals else None

    def _remove(self, client: int, now: float) -> AwarenessEntry:
        held = self._held[client]
        if not held.entry.removed:
            self._live -= 1
            self._live_bytes -= len(held.entry.state_json)
        removal = AwarenessEntry(client, held.entry.clock + 1, "null")
        self._held[client] = _Held(removal, None, now)
        self._removed.pop(client, None)
        self._remember_removal(client, now)
        return removal


def _is_newer(entry: AwarenessEntry, current: AwarenessEntry) -> bool:
    """The y-protocols rule: a higher clock, or the same clock turning into a removal."""
    return entry.clock > current.clock or (
        entry.clock == current.clock and entry.removed and not current.removed
    )


def _check_state(entry: AwarenessEntry, max_bytes: int) -> None:
    if len(entry.state_json) > max_bytes:
        raise ProtocolError(f"awareness state over {max_bytes} bytes")
    try:
        json.loads(entry.state_json)
    except RecursionError:
        raise ProtocolError("awareness state is nested too deeply") from None
    except ValueError:
        raise ProtocolError("awareness state is not valid JSON") from None
