"""Prometheus figures read from live services at scrape time: rooms and the event loop.

The room server and the watchdog keep plain counters (no Prometheus in
``collab``); this collector turns them into metric families when ``/metrics``
is scraped, so the hot path pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jacameno.api.watchdog import LoopWatchdog
from jacameno.collab.server import RoomServer


class RuntimeCollector(Collector):
    """The room server's counters and the loop watchdog's stalls."""

    def __init__(self, rooms: RoomServer, watchdog: LoopWatchdog) -> None:
        self._rooms = rooms
        self._watchdog = watchdog

    def collect(self) -> Iterator[Metric]:
        stats = self._rooms.stats
        rooms = list(self._rooms.rooms.values())
        yield GaugeMetricFamily(
            "jacameno_collab_rooms_loaded", "Rooms in memory now.", value=len(rooms)
        )
        yield GaugeMetricFamily(
            "jacameno_collab_log_updates",
            "Logged updates of loaded rooms not yet folded into their snapshots.",
            value=sum(room.log_count for room in rooms),
        )
        counters = {
            "updates_accepted": (stats.updates_accepted, "Updates written to the log."),
            "updates_refused_read_only": (
                stats.updates_refused_read_only,
                "Updates from read-only peers, dropped.",
            ),
            "updates_rejected": (
                stats.updates_rejected,
                "Updates refused because they cannot be applied (sender closed with 4400).",
            ),
            "updates_quarantined": (
                stats.updates_quarantined,
                "Stored updates moved to quarantine because they cannot be applied.",
            ),
            "frames_relayed": (stats.frames_relayed, "Frames sent to peers."),
            "compactions": (stats.compactions, "Compactions of a room's log."),
            "awareness_duplicates_dropped": (
                stats.awareness_duplicates_dropped,
                "Awareness messages with nothing new, not forwarded.",
            ),
        }
        for name, (value, documentation) in counters.items():
            yield CounterMetricFamily(f"jacameno_collab_{name}", documentation, value=value)
        closes = CounterMetricFamily(
            "jacameno_collab_closes", "Connections closed, by close code.", labels=["code"]
        )
        for code, count in sorted(stats.closes.items()):
            closes.add_metric([str(code)], count)
        yield closes
        yield CounterMetricFamily(
            "jacameno_event_loop_stalls",
            "Event-loop stalls past the watchdog's threshold (each logged with what ran).",
            value=self._watchdog.stalls,
        )
        yield GaugeMetricFamily(
            "jacameno_event_loop_worst_stall_seconds",
            "The longest event-loop stall seen, in seconds.",
            value=self._watchdog.worst_s,
        )
