"""A model that asks a primary model first and another when the primary fails
(for new lines and for restyles alike).

Typically the OpenAI model first and the offline generator second: a writer gets
lines even when the server is down, slow or answers nonsense, and the suggestion
says who wrote it (:attr:`~.model.LyricsSuggestion.source`) and why the first choice
did not (:attr:`~.model.LyricsSuggestion.notes`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from jacameno.audio_services.lyrics.model import (
    LyricsError,
    LyricsModel,
    LyricsRequest,
    LyricsSource,
    LyricsSuggestion,
    RestyleRequest,
)

_Request = TypeVar("_Request", LyricsRequest, RestyleRequest)


class FallbackLyricsModel:
    """:class:`~.model.LyricsModel` that falls back when ``primary`` raises
    :class:`~.model.LyricsError`.

    Only :class:`~.model.LyricsError` triggers the fallback: a bug (any other
    exception) or a cancellation propagates. If the fallback fails too, its
    :class:`~.model.LyricsError` propagates, chained to the primary's.
    """

    def __init__(self, primary: LyricsModel, fallback: LyricsModel) -> None:
        self._primary = primary
        self._fallback = fallback

    @property
    def source(self) -> LyricsSource:
        """The source of the model asked first."""
        return self._primary.source

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion:
        return await self._either(request, self._primary.suggest, self._fallback.suggest)

    async def restyle(self, request: RestyleRequest) -> LyricsSuggestion:
        return await self._either(request, self._primary.restyle, self._fallback.restyle)

    async def _either(
        self,
        request: _Request,
        primary: Callable[[_Request], Awaitable[LyricsSuggestion]],
        fallback: Callable[[_Request], Awaitable[LyricsSuggestion]],
    ) -> LyricsSuggestion:
        try:
            return await primary(request)
        except LyricsError as primary_failure:
            note = f"{self._primary.source.value} model failed: {primary_failure}"
            try:
                suggestion: LyricsSuggestion = await fallback(request)
            except LyricsError as fallback_failure:
                raise fallback_failure from primary_failure
            return replace(suggestion, notes=(note, *suggestion.notes))
