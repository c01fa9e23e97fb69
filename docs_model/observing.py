"""Turning deep-observer events into the ids of the entries they touched.

Observers run inside the commit of the transaction that made the change (a local write,
or `apply_update` of a peer's update): the document is read-only there, and an exception
raised in an observer reaches the writer as an ``ExceptionGroup``. So an observer should
only note what changed and queue it, e.g. ``send_stream.send_nowait(job_id)`` on a
bounded anyio memory stream, and a task outside the callback does the work. Services
write with their own `origin` and skip events carrying it, or they would react to their
own writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from pycrdt import MapEvent

__all__ = ["changed_ids", "event_origin"]


def changed_ids(events: Iterable[object]) -> tuple[str, ...]:
    """Ids of the entries of an id-keyed root Map (`jobs`, `tracks`, `coaching`) that
    were added, replaced, removed or edited inside, in first-seen order.

    `events` is what ``root.observe_deep(callback)`` passes to `callback`. A removed
    entry is included: look it up again to see whether it still exists.
    """
    ids: dict[str, None] = {}
    for event in events:
        path = getattr(event, "path", None)
        if path:
            if isinstance(path[0], str):
                ids[path[0]] = None
        elif isinstance(event, MapEvent):
            keys = getattr(event, "keys", None)
            if isinstance(keys, dict):
                ids.update(dict.fromkeys(key for key in keys if isinstance(key, str)))
    return tuple(ids)


def event_origin(events: Iterable[object]) -> object:
    """The origin of the transaction that produced `events` (None for none)."""
    for event in events:
        transaction = getattr(event, "transaction", None)
        if transaction is not None:
            return transaction.origin
    return None
