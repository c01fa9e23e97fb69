"""What a lyrics suggestion is asked for and what comes back, and the model seam.

Two models implement :class:`LyricsModel`: the offline generator (no network; the
default) and the OpenAI one (any OpenAI-compatible server). Whichever wrote a
suggestion says so in :attr:`LyricsSuggestion.source`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from jacameno.audio_services.errors import AudioError

#: A rhyme scheme: one letter per line, equal letters rhyme ("AABB", "ABAB", "ABCB").
SCHEME_PATTERN = re.compile(r"[A-Z]{1,32}")
MAX_LINES = 32
MAX_SYLLABLES = 24


class LyricsError(AudioError):
    """A lyrics request cannot be served (bad parameters, or every model failed)."""


class LyricsSource(StrEnum):
    OFFLINE = "offline"
    OPENAI = "openai"


@dataclass(frozen=True, slots=True)
class LyricsRequest:
    """What to write.

    ``rhyme_scheme`` has one letter per line and sets the line count; ``syllables``
    is one target per line (fitted to a melody) or a single number for every line;
    ``stress`` an optional pattern per line of ``0``/``1`` (unstressed/stressed);
    ``examples`` are lines the writer accepted or wrote before (their style memory).
    """

    theme: str
    rhyme_scheme: str = "AABB"
    syllables: tuple[int, ...] = (8,)
    style: str | None = None
    stress: str | None = None
    examples: tuple[str, ...] = ()
    seed: int = 0
    language: str = "en"

    def __post_init__(self) -> None:
        if not SCHEME_PATTERN.fullmatch(self.rhyme_scheme):
            raise LyricsError(
                f"rhyme_scheme must be 1 to {MAX_LINES} capital letters (e.g. AABB),"
                f" got {self.rhyme_scheme!r}"
            )
        if not self.theme.strip() or len(self.theme) > 500:
            raise LyricsError("theme must be 1 to 500 characters")
        if len(self.syllables) not in (1, len(self.rhyme_scheme)):
            raise LyricsError(
                f"syllables must be one number or one per line ({len(self.rhyme_scheme)})"
            )
        if any(not 1 <= count <= MAX_SYLLABLES for count in self.syllables):
            raise LyricsError(f"syllables per line must be between 1 and {MAX_SYLLABLES}")
        if self.stress is not None and not re.fullmatch(r"[01]{1,24}", self.stress):
            raise LyricsError("stress must be a pattern of 0 and 1, e.g. 0101")

    @property
    def lines(self) -> int:
        return len(self.rhyme_scheme)

    def syllables_of(self, line: int) -> int:
        """The syllable target of line ``line`` (0-based)."""
        return self.syllables[line] if len(self.syllables) > 1 else self.syllables[0]


@dataclass(frozen=True, slots=True)
class LyricsSuggestion:
    """Suggested lines, the scheme they follow and which model wrote them."""

    lines: tuple[str, ...]
    rhyme_scheme: str
    source: LyricsSource
    #: Why the first choice did not write it (e.g. the OpenAI error before falling back).
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "lines": list(self.lines),
            "rhyme_scheme": self.rhyme_scheme,
            "source": self.source.value,
        }


class LyricsModel(Protocol):
    """Writes lines for a request (raises :class:`LyricsError` when it cannot)."""

    @property
    def source(self) -> LyricsSource: ...

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion: ...
