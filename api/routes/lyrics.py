"""``POST /api/v1/ai/lyrics``, ``/restyle`` and ``/feedback``: lyrics for writers
(editor or owner); see :mod:`api.lyrics`.

A suggestion answers at once (200) and is also written into the document's
``lyrics_meta.suggestions`` for every peer. Rate limited per caller
(``JACAMENO_RATE_LIMIT_LYRICS_USER``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.http import ApiRoute, json_response, read_body
from jacameno.api.lyrics import (
    FeedbackIn,
    LyricsIn,
    RestyleIn,
    generate_lyrics,
    lyrics_feedback,
    restyle_lyrics,
)
from jacameno.api.lyrics_schemas import FeedbackOut, LyricsOut
from jacameno.api.services import require_principal, services_of


async def suggest(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, LyricsIn)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
    entry = await generate_lyrics(services, principal, body)
    return json_response(LyricsOut.model_validate({"lyrics": entry}))


async def restyle(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, RestyleIn)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
    entry = await restyle_lyrics(services, principal, body)
    return json_response(LyricsOut.model_validate({"lyrics": entry}))


async def feedback(request: Request) -> Response:
    services = services_of(request)
    body = await read_body(request, FeedbackIn)
    async with services.database.session() as session:
        principal = await require_principal(request, session)
    answer = await lyrics_feedback(services, principal, body)
    return json_response(FeedbackOut.model_validate(answer))


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
