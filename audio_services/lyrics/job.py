"""``lyrics`` jobs: a suggestion asked for through the document's ``jobs`` map.

A peer or bot writes ``{"kind": "lyrics", "status": "queued", "params": {"theme": ...}}``
(or calls the REST/GraphQL job routes); the job coordinator admits and claims it like
any job and hands it to :class:`LyricsJobRunner`, which asks the lyrics service in the
event loop (no worker process: the offline model takes milliseconds and the OpenAI
one waits on the network). The result's ``suggestion`` lands in
``lyrics_meta.suggestions`` with the job's id.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from jacameno.audio_services.jobs.protocol import (
    JobLedger,
    JobOutcome,
    JobTicket,
    ProgressCallback,
)
from jacameno.audio_services.lyrics.model import LyricsError
from jacameno.audio_services.lyrics.service import LyricsAsk, LyricsService

__all__ = ["LyricsJobRunner", "ask_from_params"]

#: Resolves a job's requester (``user:<id>``, ``apikey:<id>``) to the user whose
#: memory personalises it (None: no personalisation).
OwnerResolver = Callable[[str], Awaitable[str | None]]


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise LyricsError(f"params.{name} must be a whole number")
    return int(value)


def ask_from_params(params: Mapping[str, Any], melody: Mapping[str, object] | None) -> LyricsAsk:
    """The request a job's ``params`` make (a peer wrote them: every field is checked)."""
    theme = params.get("theme")
    if not isinstance(theme, str):
        raise LyricsError("params.theme must be a string")
    scheme = params.get("rhyme_scheme", "AABB")
    if not isinstance(scheme, str):
        raise LyricsError("params.rhyme_scheme must be a string such as AABB")
    raw_syllables = params.get("syllables", 8)
    items = raw_syllables if isinstance(raw_syllables, list) else [raw_syllables]
    style, stress = params.get("style"), params.get("stress")
    if style is not None and not isinstance(style, str):
        raise LyricsError("params.style must be a string")
    if stress is not None and not isinstance(stress, str):
        raise LyricsError("params.stress must be a string of 0 and 1")
    lines = params.get("lines")
    return LyricsAsk(
        theme=theme,
        rhyme_scheme=scheme,
        lines=None if lines is None else _int(lines, "lines"),
        syllables=tuple(_int(item, "syllables") for item in items),
        style=style,
        stress=stress,
        seed=_int(params.get("seed", 0), "seed"),
        melody=melody,
    )


class LyricsJobRunner:
    """:class:`~audio_services.jobs.protocol.JobRunner` for ``lyrics`` jobs."""

    def __init__(self, service: LyricsService, ledger: JobLedger, owner: OwnerResolver) -> None:
        self.service = service
        self.ledger = ledger
        self.owner = owner

    async def run(self, ticket: JobTicket, progress: ProgressCallback) -> JobOutcome:
        try:
            ask = ask_from_params(ticket.params, ticket.inputs.get("melody"))
            answer = await self.service.suggest(await self.owner(ticket.requested_by), ask)
        except LyricsError as exc:
            await self.ledger.fail(ticket.job_id, str(exc))
            return JobOutcome("failed", error=str(exc))
        suggestion = {
            **answer,
            "id": ticket.job_id,
            "kind": "suggestion",
            "theme": ask.theme,
            "style": ask.style,
            "requested_by": ticket.requested_by,
            "created_at": time.time(),
            "verdict": None,
            "job_id": ticket.job_id,
        }
        result: dict[str, Any] = {"suggestion": suggestion}
        await self.ledger.finish(ticket.job_id, result)
        return JobOutcome("done", result=result)

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        row = await self.ledger.get(ticket.job_id)
        if row is None or row.status not in ("done", "failed"):
            return None
        if row.status == "done":
            return JobOutcome("done", result=row.result or {})
        return JobOutcome("failed", error=row.error or "the job failed")
