"""The OpenAI lyrics model against a scripted OpenAI-compatible server on loopback
(tests/support/fake_openai.py), and the fallback model."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from jacameno.audio_services.lyrics.fallback import FallbackLyricsModel
from jacameno.audio_services.lyrics.model import (
    LyricsError,
    LyricsRequest,
    LyricsSource,
    LyricsSuggestion,
)
from jacameno.audio_services.lyrics.openai_model import (
    OpenAIFailure,
    OpenAILyricsConfig,
    OpenAILyricsError,
    OpenAILyricsModel,
)
from tests.support.app_server import free_port
from tests.support.fake_openai import (
    API_KEY,
    MODEL,
    Answer,
    FakeOpenAI,
    completion,
    error_answer,
    lines_answer,
)

REQUEST = LyricsRequest(
    theme="leaving the city at dawn",
    rhyme_scheme="ABAB",
    syllables=(7, 8, 7, 8),
    style="folk",
    stress="0101010",
    examples=("the river knows my name", "and the lanterns burn low"),
)
FOUR_LINES = [
    "the trains are waking slow",
    "and the streetlights fade to grey",
    "I pack the things I know",
    "and the city slips away",
]


def config_for(fake: FakeOpenAI, **overrides: Any) -> OpenAILyricsConfig:
    options: dict[str, Any] = {
        "model": MODEL,
        "api_key": API_KEY,
        "base_url": fake.base_url,
        "timeout_s": 2.0,
        "max_retries": 2,
        "backoff_s": 0.01,
        "max_backoff_s": 0.05,
    }
    options.update(overrides)
    return OpenAILyricsConfig(**options)


async def suggest(fake: FakeOpenAI, **overrides: Any) -> LyricsSuggestion:
    async with OpenAILyricsModel(config_for(fake, **overrides)) as model:
        return await model.suggest(REQUEST)


async def failure(fake: FakeOpenAI, **overrides: Any) -> OpenAILyricsError:
    with pytest.raises(OpenAILyricsError) as caught:
        await suggest(fake, **overrides)
    return caught.value


async def test_success_sends_the_request_the_model_needs(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(lines_answer(FOUR_LINES))

    suggestion = await suggest(fake_openai)

    assert suggestion.lines == tuple(FOUR_LINES)
    assert suggestion.rhyme_scheme == "ABAB"
    assert suggestion.source is LyricsSource.OPENAI
    assert suggestion.notes == ()
    [sent] = fake_openai.requests
    assert sent["model"] == MODEL
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["seed"] == REQUEST.seed
    assert fake_openai.headers[0]["authorization"] == f"Bearer {API_KEY}"
    roles = [message["role"] for message in sent["messages"]]
    assert roles == ["system", "user"]
    prompt = "\n".join(message["content"] for message in sent["messages"])
    assert "ABAB" in prompt
    assert "Syllables per line: 7, 8, 7, 8" in prompt
    assert "0101010" in prompt
    assert "leaving the city at dawn" in prompt
    assert "folk" in prompt
    assert all(example in prompt for example in REQUEST.examples)
    assert "JSON" in prompt
    assert '"lines"' in prompt


async def test_one_syllable_count_applies_to_every_line(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(lines_answer(["one", "two"]))
    request = LyricsRequest(theme="rain", rhyme_scheme="AA", syllables=(6,))
    async with OpenAILyricsModel(config_for(fake_openai)) as model:
        suggestion = await model.suggest(request)
    assert suggestion.lines == ("one", "two")
    assert "Syllables per line: 6, 6" in fake_openai.requests[0]["messages"][1]["content"]


async def test_a_streamed_answer_is_joined_and_checked(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error_answer(429), lines_answer(FOUR_LINES))

    suggestion = await suggest(fake_openai, stream=True)

    assert suggestion.lines == tuple(FOUR_LINES)
    assert [sent["stream"] for sent in fake_openai.requests] == [True, True]
    fake_openai.script(completion('{"lines": ["only one"]}'))
    error = await failure(fake_openai, stream=True)
    assert error.reason is OpenAIFailure.INVALID_OUTPUT


async def test_a_stalled_stream_times_out(fake_openai: FakeOpenAI) -> None:
    slow = lines_answer(FOUR_LINES)
    fake_openai.script(*[Answer(slow.status, slow.body, delay_s=1.5)] * 2)
    error = await failure(fake_openai, stream=True, timeout_s=0.3, max_retries=1)
    assert error.reason is OpenAIFailure.TIMEOUT


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_retryable_status_then_success(fake_openai: FakeOpenAI, status: int) -> None:
    fake_openai.script(error_answer(status), lines_answer(FOUR_LINES))

    suggestion = await suggest(fake_openai)

    assert suggestion.lines == tuple(FOUR_LINES)
    assert len(fake_openai.requests) == 2


async def test_always_500_gives_up_after_the_retry_bound(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(*[error_answer(500)] * 10)

    error = await failure(fake_openai, max_retries=2)

    assert len(fake_openai.requests) == 3
    assert error.reason is OpenAIFailure.STATUS
    assert error.status_code == 500
    assert error.attempts == 3
    assert "500" in str(error)
    assert "3 attempt" in str(error)
    assert isinstance(error, LyricsError)


async def test_backoff_grows_exponentially(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(*[error_answer(500)] * 3)
    started = time.monotonic()

    await failure(fake_openai, max_retries=2, backoff_s=0.2, max_backoff_s=1.0)

    # Waits 0.2 s then 0.4 s between the three attempts.
    assert time.monotonic() - started >= 0.6
    config = config_for(fake_openai, backoff_s=0.5, max_backoff_s=3.0)
    assert [config.backoff_before_retry_s(n) for n in range(4)] == [0.5, 1.0, 2.0, 3.0]


async def test_client_error_is_not_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(error_answer(401), lines_answer(FOUR_LINES))

    error = await failure(fake_openai)

    assert len(fake_openai.requests) == 1
    assert error.reason is OpenAIFailure.STATUS
    assert error.status_code == 401


async def test_slow_answer_times_out_per_call(fake_openai: FakeOpenAI) -> None:
    slow = lines_answer(FOUR_LINES)
    fake_openai.script(Answer(slow.status, slow.body, delay_s=1.5), lines_answer(FOUR_LINES))
    started = time.monotonic()

    suggestion = await suggest(fake_openai, timeout_s=0.3, max_retries=1)

    # The first call is abandoned at 0.3 s; the retry answers at once.
    assert time.monotonic() - started < 1.2
    assert suggestion.lines == tuple(FOUR_LINES)
    assert len(fake_openai.requests) == 2


async def test_always_slow_gives_up_with_timeout(fake_openai: FakeOpenAI) -> None:
    slow = lines_answer(FOUR_LINES)
    fake_openai.script(*[Answer(slow.status, slow.body, delay_s=1.5)] * 2)
    started = time.monotonic()

    error = await failure(fake_openai, timeout_s=0.3, max_retries=1)

    assert time.monotonic() - started < 1.2
    assert error.reason is OpenAIFailure.TIMEOUT
    assert error.attempts == 2
    assert "0.3 s" in str(error)


async def test_unreachable_server_is_a_connection_failure() -> None:
    config = OpenAILyricsConfig(
        model=MODEL,
        api_key=API_KEY,
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        max_retries=1,
        backoff_s=0.01,
    )
    async with OpenAILyricsModel(config) as model:
        with pytest.raises(OpenAILyricsError) as caught:
            await model.suggest(REQUEST)
    assert caught.value.reason is OpenAIFailure.CONNECTION
    assert caught.value.attempts == 2


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("four lines, but as prose", "not JSON"),
        ('["a", "b", "c", "d"]', '"lines" list'),
        (json.dumps({"lines": FOUR_LINES[:3]}), "expected 4 lines"),
        (json.dumps({"lines": [*FOUR_LINES[:3], "   "]}), "line 4"),
        (json.dumps({"lines": [*FOUR_LINES[:3], 7]}), "line 4"),
        (json.dumps({"lines": [*FOUR_LINES[:3], "la " * 100]}), "line 4"),
    ],
)
async def test_invalid_output_is_rejected_without_retry(
    fake_openai: FakeOpenAI, content: str, why: str
) -> None:
    fake_openai.script(completion(content), lines_answer(FOUR_LINES))

    error = await failure(fake_openai)

    assert error.reason is OpenAIFailure.INVALID_OUTPUT
    assert len(fake_openai.requests) == 1
    assert "invalid output" in str(error)
    assert why in str(error)


def test_config_misuse_fails_fast() -> None:
    with pytest.raises(LyricsError, match="api_key"):
        OpenAILyricsConfig(model=MODEL, api_key="")
    with pytest.raises(LyricsError, match="timeout_s"):
        OpenAILyricsConfig(model=MODEL, api_key=API_KEY, timeout_s=0)
    with pytest.raises(LyricsError, match="max_retries"):
        OpenAILyricsConfig(model=MODEL, api_key=API_KEY, max_retries=-1)


# --- fallback ------------------------------------------------------------------------


class StubLyricsModel:
    """A :class:`LyricsModel` test double: fixed lines, or a :class:`LyricsError`."""

    def __init__(self, source: LyricsSource, error: LyricsError | None = None) -> None:
        self._source = source
        self._error = error
        self.calls = 0

    @property
    def source(self) -> LyricsSource:
        return self._source

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion:
        self.calls += 1
        if self._error is not None:
            raise self._error
        lines = tuple(f"{self._source.value} line {n}" for n in range(request.lines))
        return LyricsSuggestion(lines, request.rhyme_scheme, self._source)


async def test_fallback_writes_when_openai_gives_up(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(*[error_answer(500)] * 3)
    offline = StubLyricsModel(LyricsSource.OFFLINE)
    async with OpenAILyricsModel(config_for(fake_openai, max_retries=2)) as primary:
        model = FallbackLyricsModel(primary, offline)
        assert model.source is LyricsSource.OPENAI

        suggestion = await model.suggest(REQUEST)

    assert suggestion.source is LyricsSource.OFFLINE
    assert suggestion.lines[0] == "offline line 0"
    assert offline.calls == 1
    assert len(fake_openai.requests) == 3
    [note] = suggestion.notes
    assert note.startswith("openai model failed:")
    assert "HTTP 500" in note


async def test_fallback_unused_when_primary_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(lines_answer(FOUR_LINES))
    offline = StubLyricsModel(LyricsSource.OFFLINE)
    async with OpenAILyricsModel(config_for(fake_openai)) as primary:
        suggestion = await FallbackLyricsModel(primary, offline).suggest(REQUEST)

    assert suggestion.source is LyricsSource.OPENAI
    assert suggestion.notes == ()
    assert offline.calls == 0


async def test_fallback_failure_propagates_chained_to_the_primary() -> None:
    primary_error = LyricsError("primary down")
    fallback_error = LyricsError("fallback down")
    model = FallbackLyricsModel(
        StubLyricsModel(LyricsSource.OPENAI, primary_error),
        StubLyricsModel(LyricsSource.OFFLINE, fallback_error),
    )
    with pytest.raises(LyricsError) as caught:
        await model.suggest(REQUEST)
    assert caught.value is fallback_error
    assert caught.value.__cause__ is primary_error


async def test_fallback_does_not_swallow_bugs() -> None:
    class Broken(StubLyricsModel):
        async def suggest(self, request: LyricsRequest) -> LyricsSuggestion:
            raise RuntimeError("a bug, not a lyrics failure")

    offline = StubLyricsModel(LyricsSource.OFFLINE)
    model = FallbackLyricsModel(Broken(LyricsSource.OPENAI), offline)
    with pytest.raises(RuntimeError):
        await model.suggest(REQUEST)
    assert offline.calls == 0
