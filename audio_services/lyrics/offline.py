"""The offline lyrics model: lines from templates, a built-in vocabulary and the theme.

No network and no model weights. Each line is a short template (``we chase the
{ADJ} {END}``) whose slots are filled with words of the right syllable counts, and
whose last word comes from a rhyme family: lines sharing a scheme letter end in
words that rhyme perfectly (checked with :mod:`.phonetics`), lines of different
letters in words that do not. The theme's words, and those of the examples, join
the nouns and the rhyme families, so they turn up in the lines.

The syllable target is met exactly when the templates allow it, and always within
one syllable. With a stress pattern, several candidates are drawn per line and the
one whose stresses fit the pattern best is kept (best effort). The same request and
seed give the same lines; another seed or theme gives others.

:meth:`OfflineLyricsModel.restyle` rewrites a verse with :mod:`.restyle` (word
vectors from the model the ``wordllama`` package ships; still no network).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import anyio

from jacameno.audio_services.lyrics.analysis import words_of
from jacameno.audio_services.lyrics.model import (
    LyricsError,
    LyricsRequest,
    LyricsSource,
    LyricsSuggestion,
    RestyleRequest,
)
from jacameno.audio_services.lyrics.phonetics import (
    RhymeKind,
    is_known,
    rhyme_keys,
    rhyme_kind,
    stress_pattern,
    syllable_count,
)
from jacameno.audio_services.lyrics.restyle import Restyler, scheme_of
from jacameno.audio_services.memory.embedder import Embedder, WordLlamaEmbedder


def _word_list(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Line endings, one rhyme family a row (every family rhymes perfectly within itself).
RHYME_FAMILIES: tuple[tuple[str, ...], ...] = tuple(
    _word_list(row)
    for row in (
        "night light flight sight kite",
        "heart start art part chart",
        "rain train lane chain plane",
        "fire wire choir desire",
        "stone phone bone throne zone tone",
        "town crown gown clown",
        "sea tree key knee degree",
        "love glove dove",
        "bed thread bread head",
        "star car guitar scar",
        "day way bay clay ray",
        "moon tune noon spoon balloon lagoon",
        "time rhyme dime chime lime",
        "ring spring string wing king thing",
        "soul hole coal goal bowl role",
        "chest nest west quest",
        "wall hall ball call fall",
        "hand band sand land",
        "air chair hair stair prayer",
        "dream stream team beam cream",
        "road code load mode",
        "sun gun run fun",
        "door floor shore core",
        "hill mill thrill will",
        "face place space race grace",
        "tide side pride ride guide bride",
    )
)
NOUNS = _word_list(
    "heart night light road river city ocean window morning summer winter shadow mirror"
    " story highway engine echo feather thunder candle harbor garden signal island season"
    " memory silence promise heartbeat distance horizon radio weather"
)
ADJECTIVES = _word_list(
    "old cold wild blue gold new lost sweet dark young slow bright warm quiet golden silver"
    " broken empty endless hollow open restless silent tender distant electric beautiful"
    " forgotten"
)
VERBS = _word_list(
    "hold chase find keep feel need call burn break want see hear carry follow remember"
)
PRONOUNS = _word_list("I we you they")
PREPOSITIONS = _word_list("in on through from beneath across beyond under over")
#: Short interjections put before a line to lengthen it.
OPENERS = ("oh", "and", "now", "so", "tonight", "again")

_END = "END"
#: Slots are capitalised; END is the rhyme word. Everything else is literal.
TEMPLATES: tuple[tuple[str, ...], ...] = tuple(
    _word_list(template)
    for template in (
        "END",
        "ADJ END",
        "the ADJ END",
        "PRON VERB the END",
        "PRON VERB the ADJ END",
        "PRON VERB your ADJ END",
        "ADJ NOUN and ADJ END",
        "PRON VERB the NOUN PREP the END",
        "PRON VERB the ADJ NOUN PREP the ADJ END",
        "and PRON VERB the NOUN PREP your END",
        "ADJ NOUN PREP a ADJ END",
        "PREP the ADJ NOUN PRON VERB the END",
    )
)
_FUNCTION_WORDS = frozenset(
    _word_list(
        "the your a and in on through from beneath across beyond under over i we you they oh so now"
    )
)
_STOPWORDS = _FUNCTION_WORDS | frozenset(
    _word_list(
        "of to for with by as is are was be it its me my our their his her this that"
        " an at or but not no all about"
    )
)
_CANDIDATES_WITH_STRESS = 10
_CANDIDATES_WITHOUT_STRESS = 3


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """Words by slot, and by syllable count within a slot."""

    slots: dict[str, dict[int, tuple[str, ...]]]
    theme: tuple[str, ...]

    def words(self, slot: str, syllables: int) -> tuple[str, ...]:
        return self.slots[slot].get(syllables, ())

    def counts(self, slot: str) -> tuple[int, int]:
        present = sorted(self.slots[slot])
        return present[0], present[-1]


def _by_syllables(words: Sequence[str]) -> dict[int, tuple[str, ...]]:
    grouped: defaultdict[int, list[str]] = defaultdict(list)
    for word in dict.fromkeys(words):
        grouped[syllable_count(word)].append(word)
    return {count: tuple(group) for count, group in grouped.items()}


@lru_cache(maxsize=256)
def _vocabulary(theme: tuple[str, ...]) -> _Vocabulary:
    return _Vocabulary(
        slots={
            "NOUN": _by_syllables([*NOUNS, *theme]),
            "ADJ": _by_syllables(ADJECTIVES),
            "VERB": _by_syllables(VERBS),
            "PRON": _by_syllables(PRONOUNS),
            "PREP": _by_syllables(PREPOSITIONS),
        },
        theme=theme,
    )


def _theme_words(request: LyricsRequest) -> tuple[str, ...]:
    """Content words of the theme, then of the examples, that the dictionary knows."""
    words = words_of(request.theme) + [w for line in request.examples for w in words_of(line)]
    return tuple(
        dict.fromkeys(w for w in words if len(w) > 2 and w not in _STOPWORDS and is_known(w))
    )


def _families(theme: tuple[str, ...]) -> list[list[str]]:
    """Rhyme families: the built-in endings, with theme words joined to (or founding) one."""
    by_part: dict[str, list[str]] = {}
    for word in (*theme, *(w for family in RHYME_FAMILIES for w in family)):
        part = rhyme_keys(word)[0][0]
        family = by_part.setdefault(part, [])
        if word not in family:
            family.append(word)
    return list(by_part.values())


def _choose_endings(request: LyricsRequest, rng: random.Random) -> dict[str, list[str]]:
    """End words per scheme letter: rhyming within a letter, not across letters."""
    theme = _theme_words(request)
    families = _families(theme)
    rng.shuffle(families)
    # Families holding a theme word first, then the bigger ones (fewer repeats).
    families.sort(key=lambda family: (not any(w in theme for w in family), -len(family)))
    needed: dict[str, int] = defaultdict(int)
    for letter in request.rhyme_scheme:
        needed[letter] += 1
    chosen: dict[str, list[str]] = {}
    for letter in sorted(needed, key=lambda letter: -needed[letter]):
        taken = [word for words in chosen.values() for word in words]
        # Best a family big enough and not even a slant rhyme of the other letters';
        # then any size; then anything that is no perfect rhyme of them (long schemes).
        for big_enough, unlike in (
            (True, {RhymeKind.NONE}),
            (False, {RhymeKind.NONE}),
            (False, {RhymeKind.NONE, RhymeKind.SLANT}),
        ):
            pick = next(
                (
                    family
                    for family in families
                    if (len(family) >= needed[letter] or not big_enough)
                    and all(rhyme_kind(family[0], other) in unlike for other in taken)
                ),
                None,
            )
            if pick is not None:
                break
        if pick is None:
            raise LyricsError(f"not enough rhyme families for the scheme {request.rhyme_scheme}")
        words = [w for w in pick if w in theme] + rng.sample(
            [w for w in pick if w not in theme], k=len([w for w in pick if w not in theme])
        )
        # A family smaller than the letter's lines repeats its words (identical rhyme).
        chosen[letter] = [words[i % len(words)] for i in range(needed[letter])]
        families.remove(pick)
    for words in chosen.values():
        rng.shuffle(words)
    return chosen


def _split(total: int, ranges: list[tuple[int, int]], rng: random.Random) -> list[int] | None:
    """Syllables per slot adding up to ``total``, each within its range, or None."""
    if not sum(low for low, _ in ranges) <= total <= sum(high for _, high in ranges):
        return None
    counts: list[int] = []
    for index, (low, high) in enumerate(ranges):
        rest = ranges[index + 1 :]
        least = max(low, total - sum(h for _, h in rest))
        most = min(high, total - sum(lo for lo, _ in rest))
        count = rng.randint(least, most)
        counts.append(count)
        total -= count
    return counts


def _fill(
    template: tuple[str, ...], end: str, syllables: int, vocab: _Vocabulary, rng: random.Random
) -> list[str] | None:
    """The template's words with ``syllables`` in all, or None if it cannot have that many."""
    slots = [piece for piece in template if piece.isupper() and piece != _END]
    literal = sum(syllable_count(t) for t in template if not t.isupper()) + syllable_count(end)
    counts = _split(syllables - literal, [vocab.counts(slot) for slot in slots], rng)
    if counts is None:
        return None
    chosen = iter(counts)
    words: list[str] = []
    for piece in template:
        if piece == _END:
            words.append(end)
        elif piece.isupper():
            options = vocab.words(piece, next(chosen))
            if not options:
                return None
            themed = [w for w in options if w in vocab.theme] if piece == "NOUN" else []
            words.append(rng.choice(themed if themed and rng.random() < 0.6 else options))
        else:
            words.append(piece)
    return words


def _line_words(end: str, syllables: int, vocab: _Vocabulary, rng: random.Random) -> list[str]:
    """One candidate line of ``syllables`` (±1 when no template fits exactly)."""
    templates = list(TEMPLATES)
    rng.shuffle(templates)
    for slack in (0, -1, 1):
        target = syllables + slack
        # Long targets: put openers or a whole clause in front of the line.
        prefix: list[str] = []
        while target - sum(map(syllable_count, prefix)) > 14:
            clause = _fill(rng.choice(TEMPLATES[4:]), rng.choice(NOUNS), 7, vocab, rng)
            prefix += [*clause[:-1], clause[-1] + ","] if clause else [rng.choice(OPENERS)]
        remaining = target - sum(map(syllable_count, prefix))
        for template in templates:
            words = _fill(template, end, remaining, vocab, rng)
            if words is not None:
                return prefix + words
        for opener in rng.sample(OPENERS, len(OPENERS)):
            for template in templates:
                words = _fill(template, end, remaining - syllable_count(opener), vocab, rng)
                if words is not None:
                    return [*prefix, opener, *words]
    raise LyricsError(f"cannot write a line of {syllables} syllables ending in {end!r}")


def stress_misfit(words: list[str], pattern: str) -> int:
    """Syllables whose stress differs from ``pattern`` (repeated along the line).

    One-syllable words bend to the metre except function words, which want no stress.
    """
    misfit = position = 0
    for word in words:
        stresses = stress_pattern(word)
        for offset, stress in enumerate(stresses):
            wanted = pattern[(position + offset) % len(pattern)]
            if len(stresses) > 1 or word in _FUNCTION_WORDS:
                misfit += stress != wanted
        position += len(stresses)
    return misfit


def _render(words: list[str]) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def write_lines(request: LyricsRequest) -> tuple[str, ...]:
    """The lines for ``request`` (see the module docstring); deterministic per seed."""
    rng = random.Random(f"{request.seed}\x1f{request.theme}\x1f{request.style}")
    vocab = _vocabulary(_theme_words(request))
    endings = _choose_endings(request, rng)
    used: defaultdict[str, int] = defaultdict(int)
    lines: list[str] = []
    for index, letter in enumerate(request.rhyme_scheme):
        end = endings[letter][used[letter]]
        used[letter] += 1
        target = request.syllables_of(index)
        tries = _CANDIDATES_WITH_STRESS if request.stress else _CANDIDATES_WITHOUT_STRESS
        candidates = [_line_words(end, target, vocab, rng) for _ in range(tries)]
        best = min(
            candidates,
            key=lambda words: (
                abs(sum(map(syllable_count, words)) - target),
                stress_misfit(words, request.stress) if request.stress else 0,
                len(set(words) & set(" ".join(lines).lower().split())),
            ),
        )
        lines.append(_render(best))
    return tuple(lines)


class OfflineLyricsModel:
    """Writes lines without a network (see the module docstring). Always available.

    Restyling (:mod:`.restyle`) compares words with ``embedder``'s vectors; without
    one, a :class:`~jacameno.audio_services.memory.embedder.WordLlamaEmbedder` is
    made on the first restyle.
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._restyler: Restyler | None = None

    @property
    def source(self) -> LyricsSource:
        return LyricsSource.OFFLINE

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion:
        # A few milliseconds of CPU for a verse: not worth a thread hop.
        return LyricsSuggestion(
            lines=write_lines(request), rhyme_scheme=request.rhyme_scheme, source=self.source
        )

    async def restyle(self, request: RestyleRequest) -> LyricsSuggestion:
        if self._restyler is None:
            # Made on the event loop thread, so two first calls cannot race.
            self._restyler = Restyler(self._embedder or WordLlamaEmbedder())
        restyler = self._restyler

        def rewrite() -> tuple[tuple[str, ...], str]:
            lines = restyler.rewrite(request)
            return lines, scheme_of(request.text, lines)

        # Embedding and the rhyme analysis take tens of milliseconds: off the loop.
        lines, scheme = await anyio.to_thread.run_sync(rewrite)
        return LyricsSuggestion(lines=lines, rhyme_scheme=scheme, source=self.source)
