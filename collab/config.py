"""Tunables of the collaboration server (filled from ``api.settings`` by the application)."""

from __future__ import annotations

from dataclasses import dataclass


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
    #: Most updates written in one transaction.
    max_batch: int = 2_000
    #: Seconds between retries while the database refuses writes.
    retry_backoff_s: float = 0.5
