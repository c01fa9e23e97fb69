"""Tunables of the collaboration server (filled from ``api.settings`` by the application)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UpdateLogTuning:
    """Tunables of the update log's group commit (:mod:`collab.update_log`)."""

    #: Seconds since the last write after which the log counts as quiet: the next update
    #: is then written on the task that submits it, if the store can commit at once.
    quiet_s: float = 0.002
    #: Retries of one batch after shutdown began, before its updates are given up (logged).
    shutdown_retries: int = 10


@dataclass(frozen=True, slots=True)
class CollabConfig:
    #: Largest accepted message, in bytes; a larger one closes the connection with 1009.
    #: Set on purpose: a large offline backlog arrives as one sync-step-2 message.
    max_message_bytes: int = 32 * 1024 * 1024
    #: Messages a connection may have waiting to be sent before it counts as too slow.
    send_queue_messages: int = 4096
    #: Bytes a connection may have waiting to be sent before it counts as too slow.
    send_queue_bytes: int = 64 * 1024 * 1024
    #: Seconds an empty room stays loaded (a reconnecting client finds it warm).
    room_grace_s: float = 10.0
    #: Compact a room's log into its snapshot past this many logged updates ...
    compact_after_updates: int = 500
    #: ... or past this many logged bytes.
    compact_after_bytes: int = 1024 * 1024
    #: Updates waiting for the database before readers are held back (backpressure).
    max_pending_writes: int = 20_000
    #: ... and of one room: a burst in one room must not fill the log's queue ahead of
    #: every other room's edits (each waits behind what is queued before it).
    max_pending_per_room: int = 1_000
    #: Most updates written in one transaction.
    max_batch: int = 2_000
    #: Seconds between retries while the database refuses writes.
    retry_backoff_s: float = 0.5
    #: Most updates merged into one relayed frame (merging is superlinear: 0.4 ms for
    #: 128 small updates, 19 ms for 2,000).
    max_merge_updates: int = 128
    #: Seconds shutdown waits for connections to close, then for the log to drain.
    shutdown_grace_s: float = 5.0
    #: The update log's group commit.
    update_log: UpdateLogTuning = field(default_factory=UpdateLogTuning)

    # Presence (awareness). A browser tab owns one client id and renews its state every
    # 15 s; y-websocket 3 clients echo every state they receive, the room's included.
    #: Largest awareness state of one client, in bytes of JSON.
    awareness_max_state_bytes: int = 16 * 1024
    #: Most entries in one awareness message (an echo of the whole room's states fits).
    awareness_max_entries: int = 512
    #: Most client ids one connection may own.
    awareness_max_clients_per_connection: int = 8
    #: Most live states in a room, and their total size in bytes; past either, new
    #: states are dropped (the peer still edits, it is just not shown).
    awareness_max_room_states: int = 512
    awareness_max_room_bytes: int = 1024 * 1024
    #: Seconds without renewal after which a state counts as gone (y-protocols: 30 s).
    awareness_timeout_s: float = 30.0
    #: Bytes of *new* awareness states one connection may send per second on average,
    #: and in one burst; past that it is closed with 4429.
    awareness_bytes_per_s: int = 256 * 1024
    awareness_burst_bytes: int = 2 * 1024 * 1024
    #: ... and of awareness messages of any kind: echoes of others' states, which
    #: y-websocket 3 clients send back, cost little to drop but are not free.
    awareness_raw_bytes_per_s: int = 1024 * 1024
    awareness_raw_burst_bytes: int = 8 * 1024 * 1024
