"""Style transfer: the offline word swap (scheme, metre, style, seeds, refusals), the
OpenAI rewrite against the scripted server of ``test_lyrics_openai``, and the fallback."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pytest

from jacameno.audio_services.lyrics.analysis import analyse_lyrics, words_of
from jacameno.audio_services.lyrics.fallback import FallbackLyricsModel
from jacameno.audio_services.lyrics.model import (
    MAX_LINES,
    LyricsError,
    LyricsModel,
    LyricsSource,
    RestyleRequest,
)
from jacameno.audio_services.lyrics.offline import OfflineLyricsModel
from jacameno.audio_services.lyrics.openai_model import (
    OpenAIFailure,
    OpenAILyricsError,
    OpenAILyricsModel,
)
from jacameno.audio_services.lyrics.phonetics import syllable_count
from jacameno.audio_services.lyrics.restyle import restyled_text, scheme_of
from jacameno.audio_services.lyrics.styles import STYLES, known_styles, style_vocabulary
from jacameno.audio_services.lyrics.word_classes import FUNCTION_WORDS, PartOfSpeech, tag_line
from jacameno.audio_services.memory.embedder import Vectors, WordLlamaEmbedder
from tests.audio_services.test_lyrics_openai import config_for
from tests.support.fake_openai import FakeOpenAI, completion, error_answer, lines_answer

#: Verses and the rhyme scheme of each section (from analyse_lyrics).
VERSES: dict[str, tuple[str, ...]] = {
    (
        "I walked along the empty street tonight\n"
        "The city lights were burning in the rain\n"
        "I held your picture close against the light\n"
        "And every window whispered out your name"
    ): ("ABAB",),
    (
        "We drove the old car down to the sea\n"
        "The summer wind was singing in the trees\n"
        "You told me stories of the girl you used to be\n"
        "And we were young and careless as the breeze"
    ): ("AAAA",),  # sea, trees, be, breeze: one vowel, slant rhymes all
    (
        "My heart is heavy and my hands are cold,\n"
        "I kept the letters that you never read.\n"
        "The winter morning turned the garden gold;\n"
        "I lie awake with all the words unsaid."
    ): ("ABAB",),
    (
        "We built a fire by the river bend\n"
        "And sang the songs we thought would never end\n"
        "The stars were falling on the quiet town\n"
        "And all the windows slowly settled down"
    ): ("AABB",),
    (
        "[Verse]\n"
        "The highway hums beneath the silver moon\n"
        "My father's radio is playing low\n"
        "\n"
        "[Chorus]\n"
        "Oh carry me home, carry me home\n"
        "The river knows the way I have to go\n"
    ): ("AB", "AA"),
}
TEXTS = tuple(VERSES)
NAMED = ("country", "gothic", "gospel", "hip hop")
#: The writer's own lines: a sailor's words ("my style").
SEA_LINES = (
    "the sails are torn and the harbor sleeps",
    "salt on the rope and the anchor chain",
    "a lighthouse burning on the stormy shore",
    "the sailors drink to the drowning tide",
    "the captain sings of the ocean floor",
)


class CountingEmbedder:
    """The real embedder, recording what it was asked to embed and from which thread."""

    def __init__(self, inner: WordLlamaEmbedder) -> None:
        self._inner = inner
        self.calls: list[tuple[str, ...]] = []
        self.threads: set[int] = set()

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dimensions(self) -> int:
        return self._inner.dimensions

    def embed(self, texts: list[str]) -> Vectors:
        self.calls.append(tuple(texts))
        self.threads.add(threading.get_ident())
        return self._inner.embed(texts)


@pytest.fixture(scope="module")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@pytest.fixture(scope="module")
def model(embedder: WordLlamaEmbedder) -> OfflineLyricsModel:
    return OfflineLyricsModel(embedder)


def similarity(embedder: WordLlamaEmbedder, text: str, target: str) -> float:
    first, second = embedder.embed([" ".join(text.split()), target])
    return float(np.dot(first, second))


def style_text(name: str) -> str:
    return " ".join(word for word, _ in style_vocabulary(name).tagged())


def lyric_lines(text: str) -> list[str]:
    return [line.text for line in analyse_lyrics(text).lines]


def section_schemes(text: str) -> tuple[str, ...]:
    return tuple(section.rhyme_scheme for section in analyse_lyrics(text).sections)


def syllables(line: str) -> int:
    return sum(syllable_count(word) for word in words_of(line))


async def restyle(model: LyricsModel, text: str, **options: Any) -> tuple[str, ...]:
    request = RestyleRequest(text, **options)
    suggestion = await model.restyle(request)
    assert len(suggestion.lines) == request.lines == len(lyric_lines(text))
    assert suggestion.rhyme_scheme == "".join(section_schemes(text))
    return suggestion.lines


@pytest.mark.parametrize("style", NAMED)
@pytest.mark.parametrize("text", TEXTS)
async def test_a_rewrite_keeps_scheme_and_metre_and_moves_toward_the_style(
    model: OfflineLyricsModel, embedder: WordLlamaEmbedder, text: str, style: str
) -> None:
    assert section_schemes(text) == VERSES[text]

    lines = await restyle(model, text, style=style)

    rewritten = restyled_text(text, lines)
    assert section_schemes(rewritten) == VERSES[text]
    before = lyric_lines(text)
    changed = 0
    for old, new in zip(before, lines, strict=True):
        assert abs(syllables(new) - syllables(old)) <= 1, (old, new)
        old_words, new_words = words_of(old), words_of(new)
        # Word for word: the last word (the rhyme) and the function words stay.
        assert len(new_words) == len(old_words)
        assert new_words[-1] == old_words[-1]
        for was, now in zip(old_words, new_words, strict=True):
            if was != now:
                changed += 1
                assert was not in FUNCTION_WORDS or {was, now} == {"a", "an"}
        # Punctuation and spacing stay where they were.
        assert [c for c in new if not c.isalpha()] == [c for c in old if not c.isalpha()]
    assert changed >= 1, lines
    target = style_text(style)
    assert similarity(embedder, " ".join(lines), target) > similarity(
        embedder, " ".join(before), target
    )


async def test_my_style_brings_in_the_writers_own_words(
    model: OfflineLyricsModel, embedder: WordLlamaEmbedder
) -> None:
    mine = {word for line in SEA_LINES for word in words_of(line)}
    for text in TEXTS[0:4:2]:
        lines = await restyle(model, text, examples=SEA_LINES)

        before = lyric_lines(text)
        brought = {w for line in lines for w in words_of(line)} - {
            w for line in before for w in words_of(line)
        }
        assert brought, lines
        assert brought <= mine
        target = " ".join(SEA_LINES)
        assert similarity(embedder, " ".join(lines), target) > similarity(
            embedder, " ".join(before), target
        )


async def test_a_style_and_examples_together_draw_on_both(model: OfflineLyricsModel) -> None:
    text = TEXTS[2]
    lines = await restyle(model, text, style="gothic", examples=SEA_LINES)
    assert lines != tuple(lyric_lines(text))


async def test_the_same_seed_gives_the_same_rewrite_and_seeds_differ(
    model: OfflineLyricsModel,
) -> None:
    text = TEXTS[0]
    rewrites = {seed: await restyle(model, text, style="gothic", seed=seed) for seed in range(8)}
    assert await restyle(model, text, style="gothic", seed=3) == rewrites[3]
    assert await restyle(OfflineLyricsModel(), text, style="gothic", seed=3) == rewrites[3]
    assert len(set(rewrites.values())) > 1


async def test_style_names_are_read_loosely(model: OfflineLyricsModel) -> None:
    text = TEXTS[1]
    hip_hop = await restyle(model, text, style="hip hop")
    for spelling in ("Hip-Hop", "hiphop", "HIP_HOP", "  hip   hop "):
        assert await restyle(model, text, style=spelling) == hip_hop


async def test_each_vocabulary_is_embedded_once_off_the_event_loop(
    embedder: WordLlamaEmbedder,
) -> None:
    counting = CountingEmbedder(embedder)
    model = OfflineLyricsModel(counting)
    for text in VERSES:
        await restyle(model, text, style="country")

    country = tuple(dict.fromkeys(word for word, _ in STYLES["country"].tagged()))
    assert counting.calls.count(country) == 1
    assert threading.get_ident() not in counting.threads


@pytest.mark.parametrize(
    ("text", "examples", "rewritten"),
    [
        ("A young girl sang all day", ("an old song",), "An old girl sang all day"),
        ("An old man sang all day", ("a young song",), "A young man sang all day"),
    ],
)
async def test_a_and_an_follow_the_new_word(
    model: OfflineLyricsModel, text: str, examples: tuple[str, ...], rewritten: str
) -> None:
    assert await restyle(model, text, examples=examples) == (rewritten,)


@pytest.mark.parametrize(
    ("line", "tags"),
    [
        (
            "I walked along the empty street tonight",
            {"walked": PartOfSpeech.VERB, "empty": None, "street": PartOfSpeech.NOUN},
        ),
        ("The girl sang, and the river runs", {"girl": None, "river": None}),
        (
            "My heart is heavy and my hands are cold",
            {
                "heart": PartOfSpeech.NOUN,
                "heavy": PartOfSpeech.ADJECTIVE,
                "hands": PartOfSpeech.NOUN,
            },
        ),
        ("We were young and careless", {"young": PartOfSpeech.ADJECTIVE}),
        ("Every window whispered", {"window": None}),
    ],
)
def test_words_are_placed_by_their_neighbours(
    line: str, tags: dict[str, PartOfSpeech | None]
) -> None:
    """Rhyme words (the last) are left out; so are words no rule places."""
    assert {tagged.word: tagged.pos for tagged in tag_line(0, line, keep_last=True)} == tags


def test_every_named_style_has_a_vocabulary_the_dictionary_knows() -> None:
    assert set(known_styles()) >= {
        "country",
        "hip hop",
        "gospel",
        "gothic",
        "pop",
        "folk",
        "blues",
        "punk",
    }
    for name in known_styles():
        words = [word for word, _ in style_vocabulary(name).tagged()]
        assert 40 <= len(words) <= 80, name
        assert all(syllable_count(word) >= 1 and word.islower() for word in words)


def test_lines_go_back_into_the_verse_around_headers_and_blank_lines() -> None:
    text = TEXTS[4]
    lines = ("one", "two", "three", "four")
    assert restyled_text(text, lines) == "[Verse]\none\ntwo\n\n[Chorus]\nthree\nfour\n"
    with pytest.raises(LyricsError, match="expected 4 lines, got 3"):
        restyled_text(text, lines[:3])
    assert scheme_of(text, lyric_lines(text)) == "ABAA"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"text": "", "style": "pop"}, "text must be 1 to 4000"),
        ({"text": "   \n\n", "style": "pop"}, "text must be 1 to 4000"),
        ({"text": "la " * 1400, "style": "pop"}, "text must be 1 to 4000"),
        ({"text": "[Verse]\n\n[Chorus]\n", "style": "pop"}, "1 to 32 lyric lines"),
        ({"text": "la\n" * (MAX_LINES + 1), "style": "pop"}, "1 to 32 lyric lines.*got 33"),
        ({"text": "a line"}, "name a style"),
        ({"text": "a line", "style": "  "}, "style must be 1 to 100"),
        ({"text": "a line", "style": "x" * 101}, "style must be 1 to 100"),
        ({"text": "a line", "examples": ("ok", " ")}, "each example"),
        ({"text": "a line", "examples": ("x" * 301,)}, "each example"),
        ({"text": "a line", "examples": ("la",) * 65}, "at most 64 example lines"),
    ],
)
def test_bad_requests_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(LyricsError, match=message):
        RestyleRequest(**options)


async def test_the_offline_model_names_the_styles_it_knows(model: OfflineLyricsModel) -> None:
    with pytest.raises(LyricsError) as caught:
        await model.restyle(RestyleRequest("a line of mine", style="baroque sea shanty"))
    assert "unknown style 'baroque sea shanty'" in str(caught.value)
    assert all(name in str(caught.value) for name in known_styles())
    with pytest.raises(LyricsError, match="no usable words"):
        await model.restyle(RestyleRequest("a line of mine", examples=("oh la la", "yeah")))


# --- OpenAI and fallback ----------------------------------------------------------------

VERSE = TEXTS[4]
REWRITE = [
    "The gravel hums beneath the whiskey moon",
    "My daddy's jukebox playing soft and low",
    "Oh carry me home, carry me home",
    "The creek bed knows the way I have to go",
]


async def test_openai_restyle_sends_the_verse_and_the_style(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(lines_answer(REWRITE))
    request = RestyleRequest(VERSE, style="country", examples=SEA_LINES[:2], seed=5)

    async with OpenAILyricsModel(config_for(fake_openai)) as model:
        suggestion = await model.restyle(request)

    assert suggestion.lines == tuple(REWRITE)
    assert suggestion.source is LyricsSource.OPENAI
    assert suggestion.rhyme_scheme == "ABAA"  # measured on the answer, per section
    [sent] = fake_openai.requests
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["seed"] == 5
    system, user = (message["content"] for message in sent["messages"])
    assert "last word" in system
    assert "JSON" in system
    assert "Style: country" in user
    assert all(example in user for example in SEA_LINES[:2])
    assert all(line in user for line in lyric_lines(VERSE))
    assert "[Chorus]" not in user
    assert 'Return exactly 4 lines as {"lines": [...]}.' in user


async def test_openai_restyle_retries_then_checks_the_line_count(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script(error_answer(503), error_answer(429), lines_answer(REWRITE))
    async with OpenAILyricsModel(config_for(fake_openai)) as model:
        assert (await model.restyle(RestyleRequest(VERSE, style="pop"))).lines == tuple(REWRITE)
        assert len(fake_openai.requests) == 3

        fake_openai.script(completion(json.dumps({"lines": REWRITE[:3]})))
        with pytest.raises(OpenAILyricsError) as caught:
            await model.restyle(RestyleRequest(VERSE, style="pop"))
    assert caught.value.reason is OpenAIFailure.INVALID_OUTPUT
    assert "expected 4 lines, one per line of the verse, got 3" in str(caught.value)


async def test_restyle_falls_back_to_the_offline_model(
    fake_openai: FakeOpenAI, model: OfflineLyricsModel
) -> None:
    fake_openai.script(*[error_answer(500)] * 3)
    text = TEXTS[0]
    async with OpenAILyricsModel(config_for(fake_openai, max_retries=2)) as primary:
        fallback = FallbackLyricsModel(primary, model)
        suggestion = await fallback.restyle(RestyleRequest(text, style="gothic"))

    assert suggestion.source is LyricsSource.OFFLINE
    assert suggestion.lines == await restyle(model, text, style="gothic")
    assert suggestion.rhyme_scheme == "ABAB"
    [note] = suggestion.notes
    assert note.startswith("openai model failed:")
    assert "HTTP 500" in note
    assert len(fake_openai.requests) == 3


async def test_restyle_fallback_failure_is_chained_to_the_primary(
    fake_openai: FakeOpenAI, model: OfflineLyricsModel
) -> None:
    fake_openai.script(error_answer(401))
    async with OpenAILyricsModel(config_for(fake_openai)) as primary:
        with pytest.raises(LyricsError, match="unknown style") as caught:
            await FallbackLyricsModel(primary, model).restyle(
                RestyleRequest(TEXTS[0], style="sea shanty")
            )
    assert isinstance(caught.value.__cause__, OpenAILyricsError)
    assert caught.value.__cause__.status_code == 401
