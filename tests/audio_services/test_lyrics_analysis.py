"""The lyrics analyser on small songs with known schemes, syllables and repeats."""

from __future__ import annotations

import pytest

from jacameno.audio_services.lyrics.analysis import analyse_lyrics, split_sections
from jacameno.audio_services.lyrics.phonetics import (
    RhymeKind,
    estimate_syllables,
    rhyme_kind,
    rhymes_perfectly,
    stress_pattern,
    syllable_count,
)

AABB = """\
I walked along the river in the night
The water held a silver kind of light
We never said the words we meant to say
And every answer drifted far away"""

ABAB = """\
The morning finds me waiting by the door
The kettle sings a song about the rain
I cannot stay inside here anymore
I catch the early window of the train"""

ABCB = """\
She left a letter on the table
The morning sun came through the glass
I read it slowly, word by word
And watched the empty hours pass"""

AAAA = """\
Hold the line and hold the light
Hold me closer through the night
Everything will be alright
Hold the line and hold the light"""


@pytest.mark.parametrize(
    ("text", "scheme"), [(AABB, "AABB"), (ABAB, "ABAB"), (ABCB, "ABCB"), (AAAA, "AAAA")]
)
def test_rhyme_scheme_of_labelled_songs(text: str, scheme: str) -> None:
    analysis = analyse_lyrics(text)
    assert len(analysis.sections) == 1
    assert analysis.sections[0].rhyme_scheme == scheme


@pytest.mark.parametrize(
    ("word", "syllables"),
    [("fire", 2), ("the", 1), ("beautiful", 3), ("every", 3), ("tonight", 2), ("desire", 3)],
)
def test_syllables_of_known_words(word: str, syllables: int) -> None:
    assert syllable_count(word) == syllables


@pytest.mark.parametrize(("word", "syllables"), [("zorgblat", 2), ("flimbles", 2), ("quax", 1)])
def test_syllables_of_unknown_words_are_estimated(word: str, syllables: int) -> None:
    assert syllable_count(word) == estimate_syllables(word) == syllables


def test_stress_from_the_dictionary() -> None:
    assert stress_pattern("tonight") == "01"
    assert stress_pattern("beautiful") == "100"


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        ("night", "light", RhymeKind.PERFECT),
        ("desire", "fire", RhymeKind.PERFECT),
        ("Away!", "say,", RhymeKind.PERFECT),
        ("night", "time", RhymeKind.SLANT),  # same stressed vowel
        ("hand", "find", RhymeKind.SLANT),  # same final consonants
        ("love", "moon", RhymeKind.NONE),
    ],
)
def test_perfect_and_slant_rhymes(first: str, second: str, kind: RhymeKind) -> None:
    assert rhyme_kind(first, second) is kind
    assert rhymes_perfectly(first, second) is (kind is RhymeKind.PERFECT)


def test_lines_record_slant_or_perfect() -> None:
    analysis = analyse_lyrics("I hold you in my hand\nI wonder what you find\nAnd understand")
    kinds = [line.rhyme_kind for line in analysis.lines]
    assert analysis.sections[0].rhyme_scheme == "AAA"
    assert kinds == [RhymeKind.NONE, RhymeKind.SLANT, RhymeKind.PERFECT]


def test_line_measures() -> None:
    line = analyse_lyrics(AABB).lines[0]
    assert line.syllables == 10
    assert len(line.stress) == 10
    assert line.end_word == "night"


def test_sections_by_blank_lines_and_headers() -> None:
    text = f"[Verse 1]\n{AABB}\n\n{ABAB}\n[Chorus]\n{AAAA}\n"
    assert [label for label, _ in split_sections(text)] == ["Verse 1", None, "Chorus"]
    analysis = analyse_lyrics(text)
    assert [s.rhyme_scheme for s in analysis.sections] == ["AABB", "ABAB", "AAAA"]
    assert len(analysis.lines) == 12


def test_rhyme_density() -> None:
    assert analyse_lyrics(AABB).rhyme_density == pytest.approx(1.0)
    assert analyse_lyrics(ABCB).rhyme_density == pytest.approx(0.5)
    assert analyse_lyrics("A cat\nA dog\nA cow\nA hat").rhyme_density == pytest.approx(0.5)
    assert analyse_lyrics("").rhyme_density == 0.0


def test_repeated_phrases_keep_the_longest_form() -> None:
    phrases = {r.phrase: r.lines for r in analyse_lyrics(AAAA).repeated_phrases}
    assert phrases["hold the line and hold the light"] == (0, 3)
    assert "hold the line" not in phrases  # inside the longer repeat on the same lines
    assert all(len(phrase.split()) >= 2 for phrase in phrases)


def test_cliches_are_flagged() -> None:
    text = "You will break my heart tonight\nAnd I know we're meant to be\nA plain line"
    flagged = {(c.phrase, c.line) for c in analyse_lyrics(text).cliches}
    assert flagged == {("break my heart", 0), ("meant to be", 1)}


def test_as_json_is_plain_data() -> None:
    meta = analyse_lyrics(f"[Chorus]\n{AAAA}").as_json()
    assert meta["rhyme_density"] == 1.0
    sections = meta["sections"]
    assert isinstance(sections, list)
    assert sections[0]["label"] == "Chorus"
    assert sections[0]["rhyme_scheme"] == "AAAA"
    assert sections[0]["lines"][1]["rhyme_kind"] == "perfect"
