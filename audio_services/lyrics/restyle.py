"""Offline style transfer: a verse's content words swapped for a style's nearest words.

Each lyric line keeps its structure, punctuation and last word, so the rhyme
scheme holds. Its other content words whose part of speech the words around them
tell (:mod:`.word_classes`) may be replaced by a word of the target vocabulary: a
named style's (:mod:`.styles`) and/or the content words of the writer's own lines
("my style"). A replacement is the same part of speech in the same form (a plural
for a plural, a past for a past), has the same syllable count (so the metre
stays), and is near the word in meaning: the cosine similarity of their embeddings
is at least ``MIN_SIMILARITY``. The seed picks among the ``CHOICES`` nearest; a
word is brought in at most once per verse; words of the vocabulary already there
stay. The same request and seed give the same lines.

The embedder is passed in; each vocabulary is embedded once and kept (the
``MAX_CACHED_VOCABULARIES`` last used). :meth:`Restyler.rewrite` is blocking: run it
in a worker thread.
"""

from __future__ import annotations

import random
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from jacameno.audio_services.lyrics.analysis import analyse_lyrics, split_sections
from jacameno.audio_services.lyrics.model import LyricsError, RestyleRequest
from jacameno.audio_services.lyrics.phonetics import pronunciations, syllable_count
from jacameno.audio_services.lyrics.styles import STYLES, style_name, style_vocabulary
from jacameno.audio_services.lyrics.word_classes import (
    PartOfSpeech,
    TaggedWord,
    inflection,
    known_adjective,
    tag_line,
)
from jacameno.audio_services.memory.embedder import Embedder, Vectors

__all__ = ["MIN_SIMILARITY", "Restyler", "restyled_text", "scheme_of"]

#: Cosine similarity a replacement needs to the word it replaces (static word vectors:
#: unrelated words score about 0, near-synonyms 0.3 to 0.6).
MIN_SIMILARITY = 0.12
#: The seed picks among this many nearest candidates.
CHOICES = 3
#: Vocabularies kept embedded (the named styles, and recent writers' own words).
MAX_CACHED_VOCABULARIES = 32
#: How much nearer the mean adjective than the mean noun a word must be to count as one.
ADJECTIVE_MARGIN = 0.06
_ARTICLE_BEFORE = re.compile(r"\b(a|an|A|An|AN)(\s+)$")


def _starts_with_vowel_sound(word: str) -> bool:
    phones = pronunciations(word)
    if phones:
        return phones[0][:1] in "AEIOU"
    return word[:1].lower() in "aeiou"


def _cased_like(word: str, model: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def _apply(line: str, index: int, chosen: dict[TaggedWord, str]) -> str:
    """``line`` with its chosen replacements, cased like the words they replace."""
    pieces: list[str] = []
    cursor = 0
    for slot in sorted((s for s in chosen if s.line == index), key=lambda s: s.start):
        before = line[cursor : slot.start]
        new = chosen[slot]
        # "an old road" -> "a dusty road": the article follows the new word's sound.
        article = _ARTICLE_BEFORE.search(before)
        if article:
            wanted = "an" if _starts_with_vowel_sound(new) else "a"
            before = before[: article.start()] + _cased_like(wanted, article.group(1))
            before += article.group(2)
        pieces += [before, _cased_like(new, line[slot.start : slot.end])]
        cursor = slot.end
    return "".join([*pieces, line[cursor:]])


def restyled_text(text: str, lines: Sequence[str]) -> str:
    """``text`` with its lyric lines replaced by ``lines`` (headers and blank lines kept).

    Raises:
        LyricsError: ``lines`` is not one line per lyric line of ``text``.
    """
    numbered = [number for _, section in split_sections(text) for number, _ in section]
    if len(numbered) != len(lines):
        raise LyricsError(f"expected {len(numbered)} lines, got {len(lines)}")
    rows = text.split("\n")
    for line, new in zip(numbered, lines, strict=True):
        rows[line] = new
    return "\n".join(rows)


def scheme_of(text: str, lines: Sequence[str]) -> str:
    """The rhyme scheme of ``lines`` set into ``text``'s sections: each section's
    letters (:func:`~.analysis.analyse_lyrics`), joined."""
    analysis = analyse_lyrics(restyled_text(text, lines))
    return "".join(section.rhyme_scheme for section in analysis.sections)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A word a rewrite may bring in, as what part of speech, in which form."""

    word: str
    pos: PartOfSpeech
    form: str


class Restyler:
    """Rewrites verses toward a style with ``embedder``'s word vectors (thread-safe)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: OrderedDict[tuple[str, ...], Vectors] = OrderedDict()
        self._lock = threading.Lock()
        # All the named styles' nouns and adjectives: where a modifier's kind is guessed.
        self._kinds = {
            kind: tuple(
                sorted({w for v in STYLES.values() for w, pos in v.tagged() if pos is kind})
            )
            for kind in (PartOfSpeech.NOUN, PartOfSpeech.ADJECTIVE)
        }

    def vectors(self, words: tuple[str, ...]) -> Vectors:
        """Unit vectors of ``words``, one row each (a vocabulary is embedded once)."""
        with self._lock:
            if words in self._vectors:
                self._vectors.move_to_end(words)
                return self._vectors[words]
        vectors = self._embedder.embed(list(words))
        with self._lock:
            self._vectors[words] = vectors
            while len(self._vectors) > MAX_CACHED_VOCABULARIES:
                self._vectors.popitem(last=False)
        return vectors

    def rewrite(self, request: RestyleRequest) -> tuple[str, ...]:
        """The lyric lines of ``request.text`` rewritten (see the module docstring).

        Raises:
            LyricsError: an unknown style, or examples without a word to learn from.
        """
        vocabulary = self._vocabulary(request)
        if not vocabulary:
            raise LyricsError(
                "the examples hold no usable words: give lines of your own (or name a style)"
            )
        lines = request.lyric_lines
        own = {entry.word for entry in vocabulary}
        slots = self._resolved(
            [
                slot
                for index, line in enumerate(lines)
                for slot in tag_line(index, line, keep_last=True)
                if slot.word not in own
            ]
        )
        style = style_name(request.style) if request.style else ""
        rng = random.Random(
            "\x1f".join((str(request.seed), request.text, style, *request.examples))
        )
        chosen = self._choose(slots, vocabulary, rng) if slots else {}
        return tuple(_apply(line, index, chosen) for index, line in enumerate(lines))

    def _choose(
        self, slots: list[TaggedWord], vocabulary: tuple[_Entry, ...], rng: random.Random
    ) -> dict[TaggedWord, str]:
        """A replacement for each slot that has one (see the module docstring)."""
        words = tuple(dict.fromkeys(entry.word for entry in vocabulary))
        column = {word: index for index, word in enumerate(words)}
        unique = list(dict.fromkeys(slot.word for slot in slots))
        row = {word: index for index, word in enumerate(unique)}
        similarity = self._embedder.embed(unique) @ self.vectors(words).T
        chosen: dict[TaggedWord, str] = {}
        for slot in slots:
            if slot.pos is None:  # pragma: no cover - _resolved gave each slot a kind
                continue
            scores = similarity[row[slot.word]]
            form, syllables = inflection(slot.word, slot.pos), syllable_count(slot.word)
            fitting = sorted(
                (
                    (float(scores[column[entry.word]]), entry.word)
                    for entry in vocabulary
                    if entry.pos is slot.pos
                    and entry.form == form
                    and entry.word not in chosen.values()
                    and syllable_count(entry.word) == syllables
                    and scores[column[entry.word]] >= MIN_SIMILARITY
                ),
                reverse=True,
            )[:CHOICES]
            if fitting:
                chosen[slot] = rng.choice(fitting)[1]
        return chosen

    def _vocabulary(self, request: RestyleRequest) -> tuple[_Entry, ...]:
        """The words a rewrite may bring in: the named style's, then the examples'."""
        tagged = list(style_vocabulary(request.style).tagged()) if request.style else []
        mine = [
            slot
            for index, line in enumerate(request.examples)
            for slot in tag_line(index, line, keep_last=False)
        ]
        tagged += [(slot.word, slot.pos) for slot in self._resolved(mine) if slot.pos]
        entries = (_Entry(word, pos, inflection(word, pos)) for word, pos in tagged)
        return tuple(dict.fromkeys(entries))

    def _resolved(self, slots: list[TaggedWord]) -> list[TaggedWord]:
        """``slots`` with each modifier's kind guessed (:meth:`_noun_or_adjective`)."""
        unknown = [slot.word for slot in slots if slot.pos is None]
        guesses = iter(self._noun_or_adjective(unknown))
        return [
            slot if slot.pos is not None else replace(slot, pos=next(guesses)) for slot in slots
        ]

    def _noun_or_adjective(self, words: list[str]) -> list[PartOfSpeech]:
        """Whether each word, before a noun, is an adjective or a noun used as one.

        Known adjectives and adjective endings decide; else the embedding, when it is
        clearly nearer the named styles' mean adjective than their mean noun; else a
        noun (a noun swapped in for an adjective reads oddly, the reverse breaks the line).
        """
        if not words:
            return []
        nouns, adjectives = self._kinds[PartOfSpeech.NOUN], self._kinds[PartOfSpeech.ADJECTIVE]
        centres = np.stack(
            [self.vectors(nouns).mean(axis=0), self.vectors(adjectives).mean(axis=0)]
        )
        scores = self._embedder.embed(words) @ centres.T
        return [
            PartOfSpeech.ADJECTIVE
            if known_adjective(word, adjectives) or row[1] - row[0] >= ADJECTIVE_MARGIN
            else PartOfSpeech.NOUN
            for word, row in zip(words, scores, strict=True)
        ]
