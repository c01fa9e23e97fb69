"""Background compaction of rooms' update logs, one at a time per room.

A room whose log passes :attr:`CollabConfig.compact_after_updates` updates (or
``compact_after_bytes``) gets its log folded into the snapshot by
:meth:`collab.store.DocumentStore.compact`, in the room server's task group; a
compaction that finds more logged meanwhile goes on until the log is under the
threshold again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from anyio.abc import TaskGroup

from jacameno.collab.config import CollabConfig
from jacameno.collab.errors import CollabError
from jacameno.collab.folding import DocumentFolder
from jacameno.collab.room import CollabStats, Room
from jacameno.collab.store import DocumentStore

log = logging.getLogger("jacameno.collab.server")


class Compactor:
    """Starts and runs compactions for the rooms of one :class:`~collab.server.RoomServer`.

    ``is_loaded(room)`` tells whether ``room`` is still the server's loaded copy:
    a room evicted or replaced meanwhile is not compacted again in the background.
    """

    def __init__(
        self,
        store: DocumentStore,
        folder: DocumentFolder,
        stats: CollabStats,
        config: CollabConfig,
        *,
        is_loaded: Callable[[Room], bool],
        on_compacted: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.folder = folder
        self.stats = stats
        self.config = config
        self._is_loaded = is_loaded
        self._on_compacted = on_compacted
        self._compacting: set[str] = set()
        self._task_group: TaskGroup | None = None

    def bind(self, task_group: TaskGroup | None) -> None:
        """Run background compactions in ``task_group`` (None: start none)."""
        self._task_group = task_group

    def over_threshold(self, room: Room) -> bool:
        return (
            room.log_count >= self.config.compact_after_updates
            or room.log_bytes >= self.config.compact_after_bytes
        ) and self._is_loaded(room)

    def maybe_compact(self, room: Room) -> None:
        """Start a background compaction of ``room`` if its log is over the threshold."""
        if self.over_threshold(room):
            self.start(room)

    def start(self, room: Room) -> None:
        """Compact ``room`` in the background unless that already runs."""
        if room.name not in self._compacting and self._task_group is not None:
            self._compacting.add(room.name)
            self._task_group.start_soon(self._compact_in_background, room)

    async def _compact_in_background(self, room: Room) -> None:
        try:
            # Catch up: updates logged during a compaction may call for the next one,
            # whether or not more arrive to trigger it.
            while await self.compact(room) and self.over_threshold(room):
                pass
        finally:
            self._compacting.discard(room.name)

    async def compact(self, room: Room) -> bool:
        """Compact ``room``'s log now; whether anything was folded."""
        try:
            result = await self.store.compact(room.name, self.folder.fold)
        except CollabError as exc:
            log.warning("compaction failed", extra={"room": room.name, "error": str(exc)})
            return False
        if result is None:
            return False
        room.log_count = max(0, room.log_count - result.folded_updates)
        room.log_bytes = 0 if room.log_count == 0 else room.log_bytes
        room.quarantine_due = False
        self.stats.compactions += 1
        self.stats.updates_quarantined += result.quarantined
        done, room.compacted = room.compacted, anyio.Event()
        done.set()
        if self._on_compacted is not None:
            self._on_compacted(room.name)
        return True
