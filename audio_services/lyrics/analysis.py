"""Analysis of any lyrics text: sections, syllables and stress, rhyme schemes, repeats.

:func:`analyse_lyrics` splits the text into sections (at blank lines and at headers
such as ``[Verse 1]`` or ``[Chorus]``), measures each line (syllables, stress from
:mod:`.phonetics`), letters each section's rhyme scheme by the lines' last words
(perfect rhymes first, then slant; which one is recorded per line), and finds phrases
repeated across lines and clichés from a small built-in list. The result is frozen and
its :meth:`LyricsAnalysis.as_json` is what the document keeps as ``lyrics_meta``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from jacameno.audio_services.lyrics.phonetics import (
    RhymeKind,
    normalise_word,
    rhyme_kind,
    stress_pattern,
    syllable_count,
)

_HEADER = re.compile(r"^\s*\[([^\]]{1,60})\]\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: Repeated n-grams are looked for from this many words up to MAX_PHRASE_WORDS.
MIN_PHRASE_WORDS = 2
MAX_PHRASE_WORDS = 8

#: Words too common for a phrase made only of them to count as a repeat.
_FUNCTION_WORDS_TEXT = (
    "a an the and or but of in on at to for from with by as is are was be it its i you"
    " he she we they me my your our their his her this that so oh"
)
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())

#: Phrases worn smooth by use; flagged, not forbidden.
CLICHES: tuple[str, ...] = (
    "break my heart",
    "broken heart",
    "heart of gold",
    "tears like rain",
    "end of the road",
    "set me free",
    "touch the sky",
    "reach for the stars",
    "meant to be",
    "all night long",
    "dance the night away",
    "burning desire",
    "fire in my soul",
    "lost without you",
    "you and me",
    "forever and ever",
    "cold as ice",
    "light up the sky",
    "baby baby",
    "heart and soul",
    "never let you go",
    "one more time",
    "on top of the world",
    "only just begun",
    "through thick and thin",
)


@dataclass(frozen=True, slots=True)
class LineAnalysis:
    """One line: its text, syllables, stress (``0``/``1`` per syllable) and rhyme.

    ``line_number`` is the line's index (from 0) in the whole text split on newlines,
    so an editor can show the figures beside it; ``rhyme`` is the line's letter in
    its section's scheme; ``rhyme_kind`` how its last word rhymes with the earlier
    lines of that letter (``none`` for the first of them).
    """

    line_number: int
    text: str
    syllables: int
    stress: str
    end_word: str
    rhyme: str
    rhyme_kind: RhymeKind

    def as_json(self) -> dict[str, object]:
        return {
            "line_number": self.line_number,
            "text": self.text,
            "syllables": self.syllables,
            "stress": self.stress,
            "end_word": self.end_word,
            "rhyme": self.rhyme,
            "rhyme_kind": self.rhyme_kind.value,
        }


@dataclass(frozen=True, slots=True)
class SectionAnalysis:
    """A section (verse, chorus, or a blank-line separated stanza) and its rhyme scheme."""

    label: str | None
    lines: tuple[LineAnalysis, ...]

    @property
    def rhyme_scheme(self) -> str:
        return "".join(line.rhyme for line in self.lines)

    def as_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "rhyme_scheme": self.rhyme_scheme,
            "lines": [line.as_json() for line in self.lines],
        }


@dataclass(frozen=True, slots=True)
class RepeatedPhrase:
    """A phrase (lower-cased words) found on more than one line; ``lines`` are indices."""

    phrase: str
    lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Cliche:
    phrase: str
    line: int


@dataclass(frozen=True, slots=True)
class LyricsAnalysis:
    """The whole text. Line indices count the lyric lines of all sections, from 0.

    ``rhyme_density`` is the share (0 to 1) of lines whose last word rhymes, perfectly
    or slant, with another line's in the same section.
    """

    sections: tuple[SectionAnalysis, ...]
    rhyme_density: float
    repeated_phrases: tuple[RepeatedPhrase, ...]
    cliches: tuple[Cliche, ...]

    @property
    def lines(self) -> tuple[LineAnalysis, ...]:
        return tuple(line for section in self.sections for line in section.lines)

    def as_json(self) -> dict[str, object]:
        return {
            "sections": [section.as_json() for section in self.sections],
            "rhyme_density": round(self.rhyme_density, 4),
            "repeated_phrases": [
                {"phrase": repeat.phrase, "lines": list(repeat.lines)}
                for repeat in self.repeated_phrases
            ],
            "cliches": [{"phrase": c.phrase, "line": c.line} for c in self.cliches],
        }


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower-cased, punctuation dropped (apostrophes kept)."""
    return [normalise_word(word) for word in _WORD.findall(text)]


def split_sections(text: str) -> list[tuple[str | None, list[tuple[int, str]]]]:
    """(label, [(line number, line)]) per section; blank lines and ``[Header]`` lines
    start a new one. Line numbers count from 0 in ``text`` split on ``\\n``."""
    sections: list[tuple[str | None, list[tuple[int, str]]]] = []
    label: str | None = None
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n")):
        header = _HEADER.match(raw)
        if header or not raw.strip():
            if lines:
                sections.append((label, lines))
            if header:
                label = header.group(1).strip()
            elif lines:
                label = None
            lines = []
            continue
        lines.append((number, raw.strip()))
    if lines:
        sections.append((label, lines))
    return sections


def _analyse_line(text: str) -> tuple[int, str, str]:
    words = words_of(text)
    stress = "".join(stress_pattern(word) for word in words)
    return sum(syllable_count(word) for word in words), stress, words[-1] if words else ""


def _letter_lines(end_words: list[str]) -> list[tuple[str, RhymeKind]]:
    """Scheme letters for a section's last words: perfect rhymes bind before slant ones."""
    groups: list[list[str]] = []
    result: list[tuple[str, RhymeKind]] = []
    for word in end_words:
        found: tuple[int, RhymeKind] | None = None
        if word:
            for wanted in (RhymeKind.PERFECT, RhymeKind.SLANT):
                for index, members in enumerate(groups):
                    if any(rhyme_kind(word, member) is wanted for member in members):
                        found = (index, wanted)
                        break
                if found:
                    break
        if found is None:
            groups.append([word] if word else [])
            index, kind = len(groups) - 1, RhymeKind.NONE
        else:
            index, kind = found
            groups[index].append(word)
        result.append((_LETTERS[min(index, len(_LETTERS) - 1)], kind))
    return result


def _repeated_phrases(lines_words: list[list[str]]) -> tuple[RepeatedPhrase, ...]:
    where: defaultdict[tuple[str, ...], set[int]] = defaultdict(set)
    for index, words in enumerate(lines_words):
        for size in range(MIN_PHRASE_WORDS, min(MAX_PHRASE_WORDS, len(words)) + 1):
            for start in range(len(words) - size + 1):
                gram = tuple(words[start : start + size])
                if not all(word in _FUNCTION_WORDS for word in gram):
                    where[gram].add(index)
    repeated = {gram: lines for gram, lines in where.items() if len(lines) > 1}
    # Keep only the longest form: drop a phrase found inside a longer repeat on the
    # same lines ("the night" inside "dance the night away").
    covered: set[tuple[str, ...]] = set()
    for gram, lines in repeated.items():
        for part in (gram[1:], gram[:-1]):
            if repeated.get(part) == lines:
                covered.add(part)
    kept = [
        RepeatedPhrase(" ".join(gram), tuple(sorted(lines)))
        for gram, lines in repeated.items()
        if gram not in covered
    ]
    kept.sort(key=lambda repeat: (-len(repeat.lines), -len(repeat.phrase), repeat.phrase))
    return tuple(kept)


def _cliches(lines_words: list[list[str]]) -> tuple[Cliche, ...]:
    found: list[Cliche] = []
    for index, words in enumerate(lines_words):
        padded = f" {' '.join(words)} "
        found.extend(Cliche(phrase, index) for phrase in CLICHES if f" {phrase} " in padded)
    return tuple(found)


def analyse_lyrics(text: str) -> LyricsAnalysis:
    """Analyse ``text`` (any lyrics; see the module docstring for what is measured)."""
    sections: list[SectionAnalysis] = []
    lines_words: list[list[str]] = []
    rhyming = total = 0
    for label, numbered in split_sections(text):
        raw_lines = [line for _, line in numbered]
        measured = [_analyse_line(line) for line in raw_lines]
        letters = _letter_lines([end for _, _, end in measured])
        counts: defaultdict[str, int] = defaultdict(int)
        for letter, _ in letters:
            counts[letter] += 1
        line_results = []
        for (number, raw), (syllables, stress, end), (letter, kind) in zip(
            numbered, measured, letters, strict=True
        ):
            line_results.append(LineAnalysis(number, raw, syllables, stress, end, letter, kind))
            total += 1
            rhyming += counts[letter] > 1 and bool(end)
        sections.append(SectionAnalysis(label, tuple(line_results)))
        lines_words.extend(words_of(line) for line in raw_lines)
    return LyricsAnalysis(
        sections=tuple(sections),
        rhyme_density=rhyming / total if total else 0.0,
        repeated_phrases=_repeated_phrases(lines_words),
        cliches=_cliches(lines_words),
    )
