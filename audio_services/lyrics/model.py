"""What a lyrics suggestion is asked for and what comes back, and the model seam.

A model writes new lines (:class:`LyricsRequest`) or rewrites a verse in another
style (:class:`RestyleRequest`). Two models implement :class:`LyricsModel`: the
offline generator (no network; the default) and the OpenAI one (any
OpenAI-compatible server). Whichever wrote a suggestion says so in
:attr:`LyricsSuggestion.source`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.lyrics.analysis import split_sections

#: A rhyme scheme: one letter per line, equal letters rhyme ("AABB", "ABAB", "ABCB").
SCHEME_PATTERN = re.compile(r"[A-Z]{1,32}")
MAX_LINES = 32
MAX_SYLLABLES = 24
#: Longest verse a restyle takes, in characters (headers and blank lines included).
MAX_RESTYLE_CHARS = 4000
MAX_STYLE_CHARS = 100
#: The writer's own lines a restyle may learn from ("my style"), and their length.
MAX_EXAMPLES = 64
MAX_EXAMPLE_CHARS = 300


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
class RestyleRequest:
    """A verse to rewrite toward a style, keeping its meaning and rhyme scheme.

    ``text`` is the verse (or song: ``[Chorus]`` headers and blank lines between
    sections are kept, and are not lines); ``style`` a named style ("country",
    "gothic"); ``examples`` lines the writer accepted or wrote before, whose words
    are "my style". At least one of the two is needed; with both, both count.
    """

    text: str
    style: str | None = None
    examples: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.text.strip() or len(self.text) > MAX_RESTYLE_CHARS:
            raise LyricsError(f"text must be 1 to {MAX_RESTYLE_CHARS} characters")
        count = len(self.lyric_lines)
        if not 1 <= count <= MAX_LINES:
            raise LyricsError(
                f"text must hold 1 to {MAX_LINES} lyric lines (headers and blank lines"
                f" do not count), got {count}"
            )
        if self.style is not None and (not self.style.strip() or len(self.style) > MAX_STYLE_CHARS):
            raise LyricsError(f"style must be 1 to {MAX_STYLE_CHARS} characters, or None")
        if len(self.examples) > MAX_EXAMPLES:
            raise LyricsError(f"at most {MAX_EXAMPLES} example lines, got {len(self.examples)}")
        if any(not line.strip() or len(line) > MAX_EXAMPLE_CHARS for line in self.examples):
            raise LyricsError(f"each example must be a line of 1 to {MAX_EXAMPLE_CHARS} characters")
        if self.style is None and not self.examples:
            raise LyricsError(
                "name a style (e.g. style='country') or give examples of your own lines"
            )

    @property
    def lyric_lines(self) -> tuple[str, ...]:
        """The lines to rewrite, in order (without headers and blank lines), stripped."""
        return tuple(line for _, lines in split_sections(self.text) for _, line in lines)

    @property
    def lines(self) -> int:
        return len(self.lyric_lines)


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
    """Writes or rewrites lines (raises :class:`LyricsError` when it cannot)."""

    @property
    def source(self) -> LyricsSource: ...

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion: ...

    async def restyle(self, request: RestyleRequest) -> LyricsSuggestion:
        """The verse rewritten: one line per lyric line of ``request.text``, in order;
        ``rhyme_scheme`` is the result's (its sections' schemes, joined)."""
        ...
