"""Rough parts of speech of the words of a lyric line, from the words around them.

No tagger model: a few rules of thumb over closed word classes (determiners,
pronouns, auxiliaries, conjunctions), enough to swap a noun for a noun and a
verb for a verb in the same form. A word no rule places is left untagged, and so
alone. Lyrics bend grammar; the rules guess wrong sometimes, and a caller that
replaces words should prefer leaving a word to breaking a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from jacameno.audio_services.lyrics.phonetics import is_known

__all__ = [
    "FUNCTION_WORDS",
    "PartOfSpeech",
    "TaggedWord",
    "inflection",
    "known_adjective",
    "tag_line",
]


class PartOfSpeech(StrEnum):
    NOUN = "noun"
    ADJECTIVE = "adjective"
    VERB = "verb"


_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_BREAK = re.compile(r"[,.;:!?()\"\u2014-]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_DETERMINERS = _words(
    "the a an my your his her our their this that these those every each some no its any"
)
_SUBJECTS = _words("i you we they he she it who i'd you'd we'd they'd")
#: A verb follows these (in its base form).
_VERB_LEADS = _words(
    "to will would can could should must might may shall i'll you'll we'll they'll he'll"
    " she'll don't can't won't didn't couldn't wouldn't let's gonna wanna gotta"
)
#: An adjective (or an -ing verb) follows these.
_COPULAS = _words(
    "is am are was were be been being i'm you're we're they're it's he's she's seem seems"
    " seemed so too very as how"
)
#: Adverbs between a subject and its verb ("I never read"): looked through.
_TRANSPARENT = _words("never always still just only often ever really once")
_CONJUNCTIONS = _words("and or but nor")
#: Words that carry grammar rather than the picture, or are too slippery to swap.
FUNCTION_WORDS = (
    _DETERMINERS
    | _SUBJECTS
    | _VERB_LEADS
    | _COPULAS
    | _TRANSPARENT
    | _CONJUNCTIONS
    | _words(
        "if then than there here what which whom whose when where why all me mine yours him"
        " hers us ours them theirs myself yourself itself ourselves themselves oh ah yeah la"
        " na do does did done have has had having get got gets go goes going gone come came"
        " make made say said know knew more most much many such own same other another one"
        " two of in on at for from with by into onto upon off out up down over under through"
        " across beyond beneath between about above after before along around behind below"
        " inside outside till until while without within against toward like now tonight"
        " today tomorrow yesterday away back again too used close far near alone together"
        " apart cause"
    )
)
#: Past forms that do not end in -ed (verbs only; "rose" the flower is a noun).
_IRREGULAR_PAST = _words(
    "held kept told drove rode took gave ran saw came went found left felt lost knew thought"
    " brought caught sang fell rose wrote spoke broke stood sat lay led met paid sent spent"
    " slept swept wept won wore tore swore shone knelt froze stole chose woke drank sank"
    " stuck struck hung dug threw grew flew drew blew built dreamt heard bought fought"
    " taught burnt began hid bit shook"
)
#: Adjectives common in lyrics.
_ADJECTIVES = _words(
    "old new young good bad big small little long short high low deep hot cold warm cool"
    " dark bright soft hard sweet bitter sad happy lonely pale red blue green black white"
    " grey gray gold golden silver wild free true strange quiet loud slow fast clean dirty"
    " empty heavy broken open lost tender silent distant endless hollow restless gentle"
    " holy sacred secret wicked brave proud kind cruel thin thick wide narrow"
)
_ADJECTIVE_ENDINGS = ("less", "ful", "ous", "ive", "ish", "able", "ible", "est")
_NOT_PLURAL = _words("chaos blues news always")


def inflection(word: str, pos: PartOfSpeech) -> str:
    """The inflection a replacement must share: a noun's number, a verb's form."""
    if pos is PartOfSpeech.NOUN:
        plural = word.endswith("s") and not word.endswith(("ss", "us", "is"))
        return "plural" if plural and word not in _NOT_PLURAL else "one"
    if pos is PartOfSpeech.VERB:
        if word.endswith("ing") and len(word) > 5:
            return "ing"
        if word.endswith("ed") or word in _IRREGULAR_PAST:
            return "past"
        return "s" if word.endswith("s") and not word.endswith("ss") else "base"
    return ""


@dataclass(frozen=True, slots=True)
class TaggedWord:
    """A content word of line ``line`` (an index): its span there, lower-cased, and
    its part of speech, or None for a word before a noun (an adjective or a noun)."""

    line: int
    start: int
    end: int
    word: str
    pos: PartOfSpeech | None


def _runs_on(line: str, match: re.Match[str], following: re.Match[str] | None) -> bool:
    """Whether a content word follows ``match`` in the same phrase."""
    return (
        following is not None
        and following.group().lower() not in FUNCTION_WORDS
        and not _BREAK.search(line[match.end() : following.start()])
    )


def tag_line(index: int, line: str, *, keep_last: bool) -> list[TaggedWord]:
    """The content words of ``line`` that a rule places (but its last with ``keep_last``).

    After a determiner, words run to a noun, and those before it modify it (part of
    speech None; a last word that may be a verb, as in "the river runs", is left
    out); after a subject or ``to``/``will``, a verb; after ``is``/``so``/
    ``as``, an adjective (or an ``-ing`` verb); after ``and``, what came before it.
    Punctuation ends a phrase. Short words, contractions and words the pronouncing
    dictionary lacks are not returned.
    """
    matches = list(_WORD.finditer(line))
    tagged: list[TaggedWord] = []
    in_phrase = False
    previous: str | None = None  # the last word that tells (adverbs looked through)
    last_pos: PartOfSpeech | None = None
    for position, match in enumerate(matches):
        word = match.group().lower()
        gap = line[matches[position - 1].end() : match.start()] if position else ""
        if _BREAK.search(gap):
            in_phrase, previous, last_pos = False, None, None
        if word in FUNCTION_WORDS:
            if word not in _TRANSPARENT:
                in_phrase, previous = word in _DETERMINERS, word
            continue
        following = matches[position + 1] if position + 1 < len(matches) else None
        pos: PartOfSpeech | None
        if in_phrase:
            after_modifier = previous not in _DETERMINERS
            if _runs_on(line, match, following):
                pos = None
            elif after_modifier and word.endswith("ed"):
                # "every window whispered out": the phrase ended, its verb came.
                pos, in_phrase = PartOfSpeech.VERB, False
            elif after_modifier and (
                word in _IRREGULAR_PAST or inflection(word, PartOfSpeech.NOUN) == "plural"
            ):
                # "the girl sang", "the river runs" (or "the city lights"): left alone.
                in_phrase, previous, last_pos = False, word, None
                continue
            else:
                pos, in_phrase = PartOfSpeech.NOUN, False
        elif previous in _SUBJECTS or previous in _VERB_LEADS:
            pos = PartOfSpeech.VERB
        elif previous in _COPULAS:
            ing = word.endswith("ing")
            pos = PartOfSpeech.VERB if ing else PartOfSpeech.ADJECTIVE
        elif previous in _CONJUNCTIONS and last_pos is not None:
            pos = last_pos
        else:
            previous, last_pos = word, None
            continue
        previous, last_pos = word, pos
        usable = len(word) > 2 and "'" not in word and is_known(word)
        if usable and not (keep_last and position == len(matches) - 1):
            tagged.append(TaggedWord(index, match.start(), match.end(), word, pos))
    return tagged


def known_adjective(word: str, also: Iterable[str] = ()) -> bool:
    """Whether ``word`` is an adjective by the lists (common ones, and ``also``) or by
    its ending (``-less``, ``-ful``, ``-ous``...). False: it may be one all the same."""
    return word in _ADJECTIVES or word in also or word.endswith(_ADJECTIVE_ENDINGS)
