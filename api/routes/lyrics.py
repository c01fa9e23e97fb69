"""``POST /api/v1/ai/lyrics``, ``/restyle`` and ``/feedback``: lyrics for writers
(editor or owner); see :mod:`api.lyrics`.

A suggestion answers at once (200) and is also written into the document's
``lyrics_meta.suggestions`` for every peer. Rate limited per caller
(``JACAMENO_RATE_LIMIT_LYRICS_USER``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.principal import Principal
from jacameno.api.http import ApiRoute, Handler, json_response, read_body
from jacameno.api.lyrics import (
    FeedbackIn,
    LyricsIn,
    RestyleIn,
    generate_lyrics,
    lyrics_feedback,
    restyle_lyrics,
)
from jacameno.api.lyrics_schemas import FeedbackOut, LyricsOut
from jacameno.api.services import AppServices, require_principal, services_of

BodyT = TypeVar("BodyT", bound=BaseModel)


def _endpoint(
    name: str,
    body_model: type[BodyT],
    operation: Callable[[AppServices, Principal, BodyT], Awaitable[dict[str, object]]],
    wrap: Callable[[dict[str, object]], BaseModel],
) -> Handler:
    """A route: read ``body_model``, authenticate, run ``operation``, answer ``wrap(result)``."""

    async def handle(request: Request) -> Response:
        services = services_of(request)
        body = await read_body(request, body_model)
        async with services.database.session() as session:
            principal = await require_principal(request, session)
        return json_response(wrap(await operation(services, principal, body)))

    handle.__name__ = name
    return handle


def _as_lyrics(entry: dict[str, object]) -> BaseModel:
    return LyricsOut.model_validate({"lyrics": entry})


suggest = _endpoint("suggest", LyricsIn, generate_lyrics, _as_lyrics)
restyle = _endpoint("restyle", RestyleIn, restyle_lyrics, _as_lyrics)
feedback = _endpoint("feedback", FeedbackIn, lyrics_feedback, FeedbackOut.model_validate)


routes = [
    ApiRoute(
        "/api/v1/ai/lyrics",
        suggest,
        method="POST",
        summary="Suggest lines that fit the song: scheme, syllables, melody, your style",
        tag="lyrics",
        body=LyricsIn,
        response=LyricsOut,
        errors=(400, 401, 403, 404, 415, 422, 429),
    ),
    ApiRoute(
        "/api/v1/ai/lyrics/restyle",
        restyle,
        method="POST",
        summary="Rewrite a verse toward a named style or your own, keeping its scheme",
        tag="lyrics",
        body=RestyleIn,
        response=LyricsOut,
        errors=(400, 401, 403, 404, 415, 422, 429),
    ),
    ApiRoute(
        "/api/v1/ai/lyrics/feedback",
        feedback,
        method="POST",
        summary="Say what you did with a suggestion (remembered for your style)",
        tag="lyrics",
        body=FeedbackIn,
        response=FeedbackOut,
        errors=(400, 401, 403, 404, 415, 422, 429),
    ),
]
