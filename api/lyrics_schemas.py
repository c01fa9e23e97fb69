"""Response bodies of the lyrics and AI-memory API (requests are in :mod:`api.lyrics`)."""

from __future__ import annotations

from typing import Literal

from jacameno.api.schemas import Out


class SuggestionOut(Out):
    """A suggestion as written into ``lyrics_meta.suggestions``."""

    id: str
    kind: Literal["suggestion", "restyle"]
    lines: list[str]
    rhyme_scheme: str
    source: Literal["offline", "openai"]
    syllables: list[int]
    notes: list[str]
    theme: str | None
    style: str | None
    requested_by: str
    created_at: float
    verdict: Literal["accepted", "edited", "rejected"] | None


class LyricsOut(Out):
    lyrics: SuggestionOut


class FeedbackOut(Out):
    suggestion_id: str
    verdict: Literal["accepted", "edited", "rejected"]


class MemoryItemOut(Out):
    id: str
    kind: Literal["lyrics", "mix_preset", "master_preset"]
    text: str
    verdict: Literal["written", "accepted", "edited", "rejected", "chosen"]
    project_id: str | None
    style: str | None
    created_at: float


class EmbeddingModelOut(Out):
    name: str
    dimensions: int


class MemoryOut(Out):
    """What the AI memory keeps about the caller."""

    embedding_model: EmbeddingModelOut
    style_version: str
    items: list[MemoryItemOut]
