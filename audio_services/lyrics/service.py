"""The lyrics service: one place that turns a writer's request into a suggestion.

It puts together what a request needs and the model alone does not know:

- **the melody**: with a coached vocal track, the note counts of its phrases give
  each line's syllable target (:mod:`.melody_fit`);
- **the writer's style**: lines they accepted, edited or wrote before, nearest the
  theme in their AI memory, go to the model as examples;
- **a cache** (Redis when configured): the same request from the same writer, whose
  memory has not changed since (its style version), is answered from it.

REST, GraphQL and ``lyrics`` jobs all go through :class:`LyricsService`; what a
writer does with a suggestion (accept, edit, reject) is remembered through it too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import anyio

from jacameno.audio_services.lyrics.analysis import analyse_lyrics
from jacameno.audio_services.lyrics.melody_fit import syllable_targets
from jacameno.audio_services.lyrics.model import (
    MAX_LINES,
    LyricsError,
    LyricsModel,
    LyricsRequest,
    LyricsSource,
    LyricsSuggestion,
    RestyleRequest,
)
from jacameno.audio_services.memory.store import (
    MemoryInputError,
    MemoryKind,
    MemoryStoreError,
    StyleMemory,
    Verdict,
)

__all__ = ["LyricsAsk", "LyricsService", "SuggestionCache"]

log = logging.getLogger("jacameno.lyrics")

#: Nearest remembered lines given to the model as the writer's style.
STYLE_EXAMPLES = 6
#: How long a cached suggestion is served, in seconds.
CACHE_TTL_S = 24 * 3600
_STYLE_VERDICTS = (Verdict.WRITTEN, Verdict.ACCEPTED, Verdict.EDITED)


class SuggestionCache(Protocol):
    """Where suggestions are kept between identical requests (Redis in ``api``)."""

    async def get(self, key: str) -> dict[str, object] | None: ...

    async def put(self, key: str, value: Mapping[str, object], ttl_s: int) -> None: ...


@dataclass(frozen=True, slots=True)
class LyricsAsk:
    """A request as a writer makes it (REST body, GraphQL arguments, job params).

    ``lines`` repeats ``rhyme_scheme`` to that many lines; ``syllables`` is one target
    for every line or one per line; ``melody`` is the coaching summary of the track to
    fit (its ``phrases`` override ``syllables``).
    """

    theme: str
    rhyme_scheme: str = "AABB"
    lines: int | None = None
    syllables: tuple[int, ...] = (8,)
    style: str | None = None
    stress: str | None = None
    seed: int = 0
    melody: Mapping[str, object] | None = None


def expand_scheme(scheme: str, lines: int | None) -> str:
    """``scheme`` repeated (or cut) to ``lines`` letters; unchanged when ``lines`` is None."""
    if lines is None:
        return scheme
    if not 1 <= lines <= MAX_LINES:
        raise LyricsError(f"lines must be between 1 and {MAX_LINES}")
    if not scheme:
        raise LyricsError("rhyme_scheme must not be empty")
    return (scheme * (lines // len(scheme) + 1))[:lines]


def suggestion_json(suggestion: LyricsSuggestion, syllables: Sequence[int]) -> dict[str, object]:
    """What a caller gets back (and the cache keeps)."""
    return {
        **suggestion.as_json(),
        "syllables": list(syllables),
        "notes": list(suggestion.notes),
    }


class LyricsService:
    """Suggestions and rewrites for writers (see the module doc).

    ``memory`` may be None (no AI memory: no personalisation); ``cache`` too.
    """

    def __init__(
        self,
        model: LyricsModel,
        *,
        memory: StyleMemory | None = None,
        cache: SuggestionCache | None = None,
        cache_ttl_s: int = CACHE_TTL_S,
    ) -> None:
        self.model = model
        self.memory = memory
        self.cache = cache
        self.cache_ttl_s = cache_ttl_s

    def request_for(self, ask: LyricsAsk) -> LyricsRequest:
        """The model request of ``ask``: scheme expanded, syllables fitted to the melody."""
        scheme = expand_scheme(ask.rhyme_scheme, ask.lines)
        syllables = ask.syllables
        if ask.melody is not None:
            syllables = syllable_targets(ask.melody, len(scheme))
        elif len(syllables) not in (1, len(scheme)):
            raise LyricsError(f"syllables must be one number or one per line ({len(scheme)})")
        return LyricsRequest(
            theme=ask.theme,
            rhyme_scheme=scheme,
            syllables=syllables,
            style=ask.style,
            stress=ask.stress,
            seed=ask.seed,
        )

    async def suggest(self, user_id: str | None, ask: LyricsAsk) -> dict[str, object]:
        """Lines for ``ask``, written in ``user_id``'s style when their memory has some.

        Returns :func:`suggestion_json` (lines, rhyme_scheme, source, syllables, notes).
        Raises :class:`LyricsError` for a request that cannot be met.
        """
        request = self.request_for(ask)  # checks the request before any lookup
        examples = await self._examples(user_id, ask.theme)
        if examples:
            request = replace(request, examples=examples)
        per_line = [request.syllables_of(line) for line in range(request.lines)]
        key = await self._cache_key(user_id, "suggest", _request_fields(request))
        cached = await self._cached(key)
        if cached is not None:
            return cached
        suggestion = await self.model.suggest(request)
        answer = suggestion_json(suggestion, per_line)
        await self._keep(key, answer, suggestion.source)
        return answer

    async def restyle(
        self, user_id: str | None, text: str, *, style: str | None, my_style: bool, seed: int = 0
    ) -> dict[str, object]:
        """``text`` rewritten toward ``style`` or, with ``my_style``, the writer's own
        remembered lines, keeping its meaning and rhyme scheme."""
        examples: tuple[str, ...] = ()
        if my_style:
            examples = await self._examples(user_id, text)
            if not examples:
                raise LyricsError(
                    "there is nothing in your AI memory yet to take your style from:"
                    " accept or write some lines first, or name a style"
                )
        request = RestyleRequest(text=text, style=style, examples=examples, seed=seed)
        key = await self._cache_key(
            user_id, "restyle", {"text": text, "style": style, "examples": examples, "seed": seed}
        )
        cached = await self._cached(key)
        if cached is not None:
            return cached
        suggestion = await self.model.restyle(request)
        analysis = await anyio.to_thread.run_sync(analyse_lyrics, "\n".join(suggestion.lines))
        answer = suggestion_json(suggestion, [line.syllables for line in analysis.lines])
        await self._keep(key, answer, suggestion.source)
        return answer

    async def remember(
        self,
        user_id: str,
        texts: Sequence[str],
        verdict: Verdict,
        *,
        project_id: str | None = None,
        style: str | None = None,
    ) -> None:
        """Keep lines a writer accepted, edited, rejected or wrote (no-op without memory)."""
        kept = [text.strip() for text in texts if text.strip()]
        if self.memory is None or not kept:
            return
        await self.memory.remember_many(
            user_id, MemoryKind.LYRICS, kept, verdict, project_id=project_id, style=style
        )

    async def analyse(self, text: str) -> dict[str, object]:
        """:func:`~.analysis.analyse_lyrics` of ``text`` as JSON, off the event loop."""
        analysis = await anyio.to_thread.run_sync(analyse_lyrics, text)
        return analysis.as_json()

    async def _examples(self, user_id: str | None, query: str) -> tuple[str, ...]:
        """The writer's remembered lines nearest ``query``; none when the memory is down
        (the suggestion is then written without their style rather than refused)."""
        if self.memory is None or user_id is None:
            return ()
        try:
            found = await self.memory.nearest(
                user_id, query, kind=MemoryKind.LYRICS, k=STYLE_EXAMPLES, verdicts=_STYLE_VERDICTS
            )
        except MemoryInputError:
            raise
        except MemoryStoreError as exc:
            log.warning("AI memory unavailable, suggesting without style: %s", exc)
            return ()
        return tuple(item.text for item, _similarity in found)

    async def _cache_key(
        self, user_id: str | None, what: str, fields: Mapping[str, object]
    ) -> str | None:
        if self.cache is None:
            return None
        version = ""
        if self.memory is not None and user_id is not None:
            try:
                version = await self.memory.style_version(user_id)
            except MemoryInputError:
                raise
            except MemoryStoreError:
                return None  # unknown style version: no cache rather than a stale one
        canonical = json.dumps(
            [what, self.model.source.value, user_id or "", version, fields],
            sort_keys=True,
            separators=(",", ":"),
            default=list,
        )
        return "jacameno:lyrics:" + hashlib.sha256(canonical.encode()).hexdigest()

    async def _cached(self, key: str | None) -> dict[str, object] | None:
        if key is None or self.cache is None:
            return None
        return await self.cache.get(key)

    async def _keep(
        self, key: str | None, answer: Mapping[str, object], source: LyricsSource
    ) -> None:
        # A fallback's answer is not cached: the preferred model may be back next time.
        if key is None or self.cache is None or source is not self.model.source:
            return
        await self.cache.put(key, answer, self.cache_ttl_s)


def _request_fields(request: LyricsRequest) -> dict[str, object]:
    return {
        "theme": request.theme,
        "rhyme_scheme": request.rhyme_scheme,
        "syllables": list(request.syllables),
        "style": request.style,
        "stress": request.stress,
        "examples": list(request.examples),
        "seed": request.seed,
        "language": request.language,
    }
