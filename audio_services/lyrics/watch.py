"""Keeping ``lyrics_meta.analysis`` current as people type.

:class:`LyricsAnalyst` observes the lyrics of every loaded room. A change marks the
project; once nobody has typed for ``delay_s`` seconds, the text is analysed in a
worker thread (:func:`~.analysis.analyse_lyrics`, a few milliseconds for a song)
and the result written into ``lyrics_meta.analysis`` with origin
:data:`ANALYST_ORIGIN`, unless the text changed meanwhile (then it waits again).

Changes relayed from another server process are left to that process (the one the
writer is connected to), so one analysis is written per change, not one per process.

With ``on_written``, the lines a writer added between two analyses are reported as
theirs (their AI memory keeps what they wrote), when exactly one signed-in peer
changed the lyrics in that time; lines of a pause shared by several writers cannot
be told apart and are not reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
from anyio.abc import TaskGroup
from pycrdt import Subscription

from jacameno.audio_services.jobs.protocol import DocumentHost
from jacameno.audio_services.lyrics.analysis import analyse_lyrics, split_sections, words_of
from jacameno.collab.access import actor_of_origin
from jacameno.collab.errors import CollabError
from jacameno.collab.relay import RELAY_ORIGIN
from jacameno.docs_model import ProjectDocument
from jacameno.docs_model.errors import DocsModelError

__all__ = ["ANALYST_ORIGIN", "LyricsAnalyst", "WrittenLines", "written_lines"]

log = logging.getLogger("jacameno.lyrics")

#: Transaction origin of the analyses written into documents.
ANALYST_ORIGIN = "service:lyrics-analysis"
#: Lines reported as written by one writer at one pause, at most.
MAX_WRITTEN_LINES = 32

#: ``await on_written(actor, project_id, lines)``: lines ``actor`` added to the lyrics.
WrittenLines = Callable[[str, str, list[str]], Awaitable[None]]


def written_lines(before: str, after: str, suggested: Iterable[str] = ()) -> list[str]:
    """Lyric lines of ``after`` (two words or more) that ``before`` did not have, except
    ``suggested`` ones (accepting a suggestion is remembered as that, not as writing)."""
    old = {line for _, lines in split_sections(before) for _, line in lines}
    old.update(line.strip() for line in suggested)
    new = [
        line
        for _, lines in split_sections(after)
        for _, line in lines
        if line not in old and len(words_of(line)) >= 2
    ]
    return list(dict.fromkeys(new))[:MAX_WRITTEN_LINES]


@dataclass
class _Watch:
    room: Any
    project: ProjectDocument
    subscription: Subscription
    #: The text as last analysed (None until the first analysis after loading).
    text: str | None = None
    #: Origins of the changes since then.
    origins: set[object] = field(default_factory=set)


class LyricsAnalyst:
    """Use as ``async with LyricsAnalyst(rooms, delay_s=1.0):`` (see the module doc)."""

    def __init__(
        self, host: DocumentHost, *, delay_s: float = 1.0, on_written: WrittenLines | None = None
    ) -> None:
        self.host = host
        self.delay_s = delay_s
        self.on_written = on_written
        self._watches: dict[str, _Watch] = {}
        #: Monotonic time of the last change not analysed yet, per project.
        self._changed_at: dict[str, float] = {}
        self._group: TaskGroup | None = None
        #: Set after each analysis is written (tests and benchmarks wait on it).
        self.written = anyio.Event()

    async def __aenter__(self) -> LyricsAnalyst:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self.host.add_room_listener(self._on_room)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._group is not None
        self._group.cancel_scope.cancel()
        group, self._group = self._group, None
        return await group.__aexit__(exc_type, exc, tb)

    def _on_room(self, room: Any) -> None:
        if self._group is None:
            return
        name = str(room.name)
        project = ProjectDocument(room.doc)
        previous = self._watches.get(name)

        def changed(origin: object) -> None:
            watch = self._watches.get(name)
            if watch is not None:
                watch.origins.add(origin)
            self._mark(name)

        subscription = project.observe_lyrics(changed, skip_origins=(RELAY_ORIGIN, ANALYST_ORIGIN))
        self._watches[name] = _Watch(room, project, subscription, text=project.lyrics_text())
        if previous is None or previous.room is not room:
            self._group.start_soon(self._forget_when_evicted, name, room)
        if project.lyrics_text().strip() and project.lyrics_analysis() is None:
            self._mark(name)

    def _mark(self, name: str) -> None:
        first = name not in self._changed_at
        self._changed_at[name] = time.monotonic()
        if first and self._group is not None:
            self._group.start_soon(self._settle, name)

    async def _forget_when_evicted(self, name: str, room: Any) -> None:
        await room.evicted.wait()
        watch = self._watches.get(name)
        if watch is not None and watch.room is room:
            del self._watches[name]

    async def _settle(self, name: str) -> None:
        """Wait for a pause in typing, then analyse and write; again if it changed."""
        try:
            while True:
                quiet_for = time.monotonic() - self._changed_at[name]
                if quiet_for < self.delay_s:
                    await anyio.sleep(self.delay_s - quiet_for)
                    continue
                started = time.monotonic()
                watch = self._watches.get(name)
                if watch is None:
                    return
                text = watch.project.lyrics_text()
                analysis = await anyio.to_thread.run_sync(analyse_lyrics, text)
                if self._changed_at[name] > started:
                    continue  # typed again while analysing
                await self._write(name, text, {**analysis.as_json(), "updated_at": time.time()})
                await self._report_written(name, watch, text)
                if self._changed_at[name] <= started:
                    return
        except (CollabError, DocsModelError) as exc:
            log.warning("lyrics analysis of %s not written: %s", name, exc)
        except Exception:
            # One project's analysis must never stop the others (or the server).
            log.exception("lyrics analysis of %s failed", name)
        finally:
            self._changed_at.pop(name, None)

    async def _report_written(self, name: str, watch: _Watch, text: str) -> None:
        before, watch.text = watch.text, text
        origins, watch.origins = watch.origins, set()
        actors = {actor for origin in origins if (actor := actor_of_origin(origin))}
        if self.on_written is None or before is None or len(actors) != 1:
            return
        suggested = [
            line
            for entry in watch.project.lyrics_suggestions()
            if isinstance(entry_lines := entry["lines"], list)
            for line in entry_lines
            if isinstance(line, str)
        ]
        written = written_lines(before, text, suggested)
        if written:
            await self.on_written(actors.pop(), name, written)

    async def _write(self, name: str, text: str, analysis: dict[str, object]) -> None:
        async with self.host.document(name, origin=ANALYST_ORIGIN) as doc:
            project = ProjectDocument(doc)
            if project.lyrics_text() == text:
                project.set_lyrics_analysis(analysis, origin=ANALYST_ORIGIN)
        written, self.written = self.written, anyio.Event()
        written.set()
