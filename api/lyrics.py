"""Lyrics for writers, the same way for REST, GraphQL and ``lyrics`` jobs.

A request is checked (editor or owner of the project; ``JACAMENO_RATE_LIMIT_LYRICS_USER``
per caller), fitted to the melody of the track named in ``fit_to_track`` (the phrases
its coaching found), answered by the lyrics service in the writer's style, and
written into the document's ``lyrics_meta.suggestions`` so every peer sees it. What
the writer then does with it (accepted, edited, rejected) is recorded in the entry
and in their AI memory.

The writer's memory belongs to a person: an API key's requests use the memory of
the user who created the key.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field

from jacameno.api.auth.actors import owner_of
from jacameno.api.auth.permissions import require_project_role
from jacameno.api.auth.principal import Principal
from jacameno.api.db.models import ProjectRole, new_id
from jacameno.api.errors import NotFoundError, ValidationFailedError
from jacameno.api.schemas import Body
from jacameno.api.services import AppServices
from jacameno.audio_services.lyrics.job import ask_from_params
from jacameno.audio_services.lyrics.melody_source import melody_of
from jacameno.audio_services.lyrics.model import MAX_LINES, MAX_SYLLABLES
from jacameno.audio_services.memory.store import Verdict
from jacameno.docs_model import ProjectDocument

__all__ = [
    "LYRICS_ORIGIN",
    "FeedbackIn",
    "LyricsIn",
    "RestyleIn",
    "generate_lyrics",
    "lyrics_feedback",
    "restyle_lyrics",
]

#: Transaction origin of what the lyrics service writes into documents.
LYRICS_ORIGIN = "service:lyrics"

Syllables = Annotated[int, Field(ge=1, le=MAX_SYLLABLES)]


class LyricsIn(Body):
    """``POST /api/v1/ai/lyrics``: what to write, and where it goes."""

    project_id: str = Field(min_length=1, max_length=64)
    theme: str = Field(min_length=1, max_length=500)
    rhyme_scheme: str = Field(default="AABB", pattern=r"^[A-Z]{1,32}$")
    lines: int | None = Field(default=None, ge=1, le=MAX_LINES)
    syllables: Syllables | list[Syllables] = 8
    style: str | None = Field(default=None, max_length=100)
    stress: str | None = Field(default=None, pattern=r"^[01]{1,24}$")
    fit_to_track: str | None = Field(default=None, min_length=1, max_length=64)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class RestyleIn(Body):
    """``POST /api/v1/ai/lyrics/restyle``: a verse rewritten toward a style."""

    project_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)
    style: str | None = Field(default=None, max_length=100)
    my_style: bool = False
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class FeedbackIn(Body):
    """``POST /api/v1/ai/lyrics/feedback``: what the writer did with a suggestion."""

    project_id: str = Field(min_length=1, max_length=64)
    suggestion_id: str = Field(min_length=1, max_length=64)
    verdict: Literal["accepted", "edited", "rejected"]
    #: The lines as the writer kept them (for ``edited``).
    text: str | None = Field(default=None, max_length=4000)


async def _writer(services: AppServices, principal: Principal, project_id: str) -> str | None:
    """Check the caller may edit ``project_id`` and count the request; their user id."""
    async with services.database.session() as session:
        await require_project_role(session, principal, project_id, ProjectRole.EDITOR)
        user_id = await owner_of(session, principal.identity)
    await services.rate_limits.hit("lyrics_user", principal.actor)
    return user_id


async def _publish(
    services: AppServices,
    project_id: str,
    answer: Mapping[str, object],
    extra: Mapping[str, object],
) -> dict[str, object]:
    """Write ``answer`` into ``lyrics_meta.suggestions``; the entry as written."""
    entry: dict[str, object] = {
        **answer,
        **extra,
        "id": new_id(),
        "created_at": time.time(),
        "verdict": None,
    }
    async with services.rooms.document(project_id, origin=LYRICS_ORIGIN) as doc:
        ProjectDocument(doc).add_lyrics_suggestion(entry, origin=LYRICS_ORIGIN)
    return entry


async def generate_lyrics(
    services: AppServices, principal: Principal, body: LyricsIn
) -> dict[str, object]:
    """Suggest lines for ``body``; the suggestion entry (also in the document)."""
    user_id = await _writer(services, principal, body.project_id)
    melody = None
    if body.fit_to_track is not None:
        async with services.rooms.document(body.project_id, origin=LYRICS_ORIGIN) as doc:
            melody = melody_of(ProjectDocument(doc), body.fit_to_track)
    ask = ask_from_params(body.model_dump(exclude={"project_id", "fit_to_track"}), melody)
    answer = await services.lyrics.suggest(user_id, ask)
    extra = {
        "kind": "suggestion",
        "theme": body.theme,
        "style": body.style,
        "requested_by": principal.actor,
    }
    return await _publish(services, body.project_id, answer, extra)


async def restyle_lyrics(
    services: AppServices, principal: Principal, body: RestyleIn
) -> dict[str, object]:
    """``body.text`` rewritten toward a style; the suggestion entry (also in the document)."""
    if body.style is None and not body.my_style:
        raise ValidationFailedError("name a style, or ask for my_style", details={"field": "style"})
    user_id = await _writer(services, principal, body.project_id)
    answer = await services.lyrics.restyle(
        user_id, body.text, style=body.style, my_style=body.my_style, seed=body.seed
    )
    extra = {
        "kind": "restyle",
        "theme": None,
        "style": body.style or "my style",
        "requested_by": principal.actor,
    }
    return await _publish(services, body.project_id, answer, extra)


async def lyrics_feedback(
    services: AppServices, principal: Principal, body: FeedbackIn
) -> dict[str, object]:
    """Record the verdict in the suggestion's entry and in the writer's memory."""
    user_id = await _writer(services, principal, body.project_id)
    async with services.rooms.document(body.project_id, origin=LYRICS_ORIGIN) as doc:
        project = ProjectDocument(doc)
        found = {entry["id"]: entry for entry in project.lyrics_suggestions()}
        if body.suggestion_id not in found:
            raise NotFoundError(f"no suggestion {body.suggestion_id} in this project")
        entry = project.set_suggestion_verdict(
            body.suggestion_id, body.verdict, origin=LYRICS_ORIGIN
        )
    lines = entry.get("lines")
    texts = body.text.splitlines() if body.text else lines if isinstance(lines, list) else []
    style = entry.get("style")
    if user_id is not None:
        await services.lyrics.remember(
            user_id,
            [str(text) for text in texts],
            Verdict(body.verdict),
            project_id=body.project_id,
            style=style if isinstance(style, str) else None,
        )
    return {"suggestion_id": body.suggestion_id, "verdict": body.verdict}
