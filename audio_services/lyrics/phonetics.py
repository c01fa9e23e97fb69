"""Syllables, stress and rhyme of English words, from the CMU pronouncing dictionary.

Pronunciations come from the ``pronouncing`` package (CMU dict, ARPAbet phones with
stress digits on vowels). Words the dictionary does not know get a spelling-based
syllable estimate and rhyme by their spelling from the last vowel group.

Rhymes, after the usual songwriting terms:

- *perfect*: the same rhyming part, from the last stressed vowel to the end
  (``night``/``light``, ``desire``/``fire``);
- *slant*: not perfect, but the same last stressed vowel (``night``/``time``) or the
  same final consonants after it (``hand``/``find``).

Lookups are cached per word (:func:`functools.lru_cache`); nothing else is kept.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

import pronouncing  # type: ignore[import-untyped]

_WORD_EDGES = re.compile(r"^[^a-z']+|[^a-z']+$")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_STRESS_DIGIT = re.compile(r"\d")


class RhymeKind(StrEnum):
    PERFECT = "perfect"
    SLANT = "slant"
    NONE = "none"


def normalise_word(word: str) -> str:
    """Lower-case ``word`` without surrounding punctuation (apostrophes inside stay)."""
    return _WORD_EDGES.sub("", word.lower()).strip("'")


@lru_cache(maxsize=65536)
def pronunciations(word: str) -> tuple[str, ...]:
    """The CMU pronunciations of ``word`` (ARPAbet), empty if the dictionary lacks it."""
    return tuple(pronouncing.phones_for_word(normalise_word(word)))


def is_known(word: str) -> bool:
    """Whether the CMU dictionary has ``word``."""
    return bool(pronunciations(word))


def estimate_syllables(word: str) -> int:
    """Syllables of ``word`` guessed from its spelling (for words not in the dictionary).

    Counts vowel groups, then drops a silent final ``e`` and adds one back for a final
    consonant + ``le`` (``table``); at least one for any word with letters.
    """
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return 0
    count = len(_VOWEL_GROUPS.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    if letters.endswith("le") and len(letters) > 2 and letters[-3] not in "aeiouy":
        count = max(count, 2)
    return max(count, 1)


@lru_cache(maxsize=65536)
def syllable_count(word: str) -> int:
    """Syllables of ``word``: from its first CMU pronunciation, else estimated."""
    phones = pronunciations(word)
    if phones:
        return int(pronouncing.syllable_count(phones[0]))
    return estimate_syllables(word)


@lru_cache(maxsize=65536)
def stress_pattern(word: str) -> str:
    """Stress of each syllable of ``word``: ``1`` stressed (primary or secondary), ``0`` not.

    Unknown words get a guess: the first syllable stressed.
    """
    phones = pronunciations(word)
    if phones:
        return "".join("0" if digit == "0" else "1" for digit in pronouncing.stresses(phones[0]))
    count = estimate_syllables(word)
    return "1" + "0" * (count - 1) if count else ""


def _rhyme_keys_of(phones: str) -> tuple[str, str, str]:
    """(rhyming part without stress digits, last stressed vowel, final consonants)."""
    part = _STRESS_DIGIT.sub("", pronouncing.rhyming_part(phones))
    sounds = part.split()
    vowel = sounds[0] if sounds else ""
    # Only the consonants after the last vowel count as "final consonants".
    final: list[str] = []
    for sound in reversed(sounds[1:]):
        if _is_vowel(sound):
            break
        final.append(sound)
    return part, vowel, " ".join(reversed(final))


def _is_vowel(sound: str) -> bool:
    return sound[:1] in "AEIOU"


@lru_cache(maxsize=65536)
def rhyme_keys(word: str) -> tuple[tuple[str, str, str], ...]:
    """One (rhyming part, stressed vowel, final consonants) key per pronunciation."""
    phones = pronunciations(word)
    if phones:
        return tuple(dict.fromkeys(_rhyme_keys_of(p) for p in phones))
    letters = re.sub(r"[^a-z]", "", normalise_word(word))
    groups = list(_VOWEL_GROUPS.finditer(letters))
    if not groups:
        return ((letters, "", letters),)
    last = groups[-1]
    return ((letters[last.start() :], last.group(), letters[last.end() :]),)


def rhyming_part(word: str) -> str:
    """The rhyming part of ``word`` (first pronunciation), stress digits dropped."""
    return rhyme_keys(word)[0][0]


@lru_cache(maxsize=65536)
def rhyme_kind(first: str, second: str) -> RhymeKind:
    """How ``first`` and ``second`` rhyme: perfect, slant or not at all.

    Any pair of pronunciations may make the rhyme (``wind`` as in air or as in turn).
    """
    keys_a, keys_b = rhyme_keys(first), rhyme_keys(second)
    if any(a[0] == b[0] and a[0] for a in keys_a for b in keys_b):
        return RhymeKind.PERFECT
    for a in keys_a:
        for b in keys_b:
            if a[1] and a[1] == b[1]:
                return RhymeKind.SLANT
            if a[2] and a[2] == b[2]:
                return RhymeKind.SLANT
    return RhymeKind.NONE


def rhymes_perfectly(first: str, second: str) -> bool:
    """Whether ``first`` and ``second`` share a rhyming part (see :func:`rhyme_kind`)."""
    return rhyme_kind(first, second) is RhymeKind.PERFECT
