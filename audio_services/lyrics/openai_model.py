"""Lyrics from any OpenAI-compatible chat completions server.

New lines (:meth:`OpenAILyricsModel.suggest`) and rewrites of a verse
(:meth:`OpenAILyricsModel.restyle`) take the same path. The model asks for JSON
(``{"lines": [...]}``), validates what comes back against the request (line count,
non-empty lines, bounded length) and retries, with exponential
backoff, only what may pass on a second try: 429, 5xx, connection errors and timeouts.
When it gives up it raises :class:`OpenAILyricsError`, whose :attr:`~OpenAILyricsError.reason`
says why; :class:`~.fallback.FallbackLyricsModel` then hands the request to the offline
model.

The client's own retries are off (``max_retries=0``): one loop here decides what is
retried, how often and how long it waits, so the bound is the one in
:class:`OpenAILyricsConfig`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, Self

import anyio
import openai
from openai.types.chat import (
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.shared_params import ResponseFormatJSONObject

from jacameno.audio_services.lyrics.model import (
    LyricsError,
    LyricsRequest,
    LyricsSource,
    LyricsSuggestion,
    RestyleRequest,
)
from jacameno.audio_services.lyrics.restyle import scheme_of

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_S = 20.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_BACKOFF_S = 0.5
DEFAULT_MAX_BACKOFF_S = 8.0
#: A sung line longer than this is not a line; the model rambled.
MAX_LINE_CHARS = 200


class OpenAIFailure(StrEnum):
    """Why the OpenAI model gave up."""

    STATUS = "status"  # an HTTP error status (the last one, after retries if retryable)
    TIMEOUT = "timeout"  # no complete answer within the per-call timeout
    CONNECTION = "connection"  # the server could not be reached
    INVALID_OUTPUT = "invalid_output"  # an answer that is not the lines asked for


class OpenAILyricsError(LyricsError):
    """The OpenAI model could not write the lines; :attr:`reason` says why."""

    def __init__(
        self,
        message: str,
        *,
        reason: OpenAIFailure,
        attempts: int,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class OpenAILyricsConfig:
    """Where and how to call the model.

    ``timeout_s`` bounds each call (connect to last byte); ``max_retries`` is the
    number of further attempts after the first, waiting ``backoff_s * 2**n`` (at most
    ``max_backoff_s``) before retry ``n``. ``stream`` asks for the answer as server-sent
    chunks (for gateways and local servers that only stream, or stall mid-answer: the
    same whole-call timeout applies).
    """

    model: str
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_s: float = DEFAULT_BACKOFF_S
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S
    temperature: float = 0.9
    stream: bool = False

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise LyricsError("OpenAILyricsConfig.model must name a model, e.g. 'gpt-4o-mini'")
        if not self.api_key:
            raise LyricsError("OpenAILyricsConfig.api_key is empty: pass the server's API key")
        if self.timeout_s <= 0:
            raise LyricsError(f"timeout_s must be positive, got {self.timeout_s}")
        if not 0 <= self.max_retries <= 10:
            raise LyricsError(f"max_retries must be between 0 and 10, got {self.max_retries}")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            raise LyricsError("backoff_s and max_backoff_s must not be negative")

    def backoff_before_retry_s(self, retry: int) -> float:
        """Seconds to wait before retry ``retry`` (0-based)."""
        return float(min(self.backoff_s * 2**retry, self.max_backoff_s))


SYSTEM_PROMPT = (
    "You are a lyricist writing lines to be sung. Follow the rhyme scheme exactly: "
    "one letter per line, lines with the same letter rhyme, different letters do not. "
    "Match each line's syllable count and, when given, its stress pattern "
    "(1 stressed, 0 unstressed). Write in the style of the writer's example lines. "
    'Answer with JSON only: {"lines": ["first line", "second line", ...]}, '
    "one string per line, no numbering, no empty lines."
)


def build_messages(request: LyricsRequest) -> list[ChatCompletionMessageParam]:
    """The chat messages for ``request``: the rules, then this song's parameters."""
    syllables = ", ".join(str(request.syllables_of(line)) for line in range(request.lines))
    parts = [
        f"Theme: {request.theme}",
        f"Language: {request.language}",
        f"Rhyme scheme: {request.rhyme_scheme} ({request.lines} lines)",
        f"Syllables per line: {syllables}",
    ]
    if request.stress is not None:
        parts.append(f"Stress pattern per line: {request.stress}")
    if request.style:
        parts.append(f"Style: {request.style}")
    if request.examples:
        parts.append("The writer's example lines:")
        parts.extend(f"- {example}" for example in request.examples)
    parts.append(f'Return exactly {request.lines} lines as {{"lines": [...]}}.')
    return [
        ChatCompletionSystemMessageParam(role="system", content=SYSTEM_PROMPT),
        ChatCompletionUserMessageParam(role="user", content="\n".join(parts)),
    ]


RESTYLE_PROMPT = (
    "You are a lyricist rewriting a verse in another style. Keep its meaning, its "
    "number of lines, each line's last word (so the rhyme scheme stays) and about "
    "each line's syllable count; change the other words and images toward the style. "
    'Answer with JSON only: {"lines": ["first line", ...]}, one string per line '
    "of the verse (section headers and blank lines are not lines), no numbering."
)


def build_restyle_messages(request: RestyleRequest) -> list[ChatCompletionMessageParam]:
    """The chat messages for a restyle: the rules, the style, then the verse."""
    parts: list[str] = []
    if request.style:
        parts.append(f"Style: {request.style}")
    if request.examples:
        parts.append("Rewrite it in the style of the writer's own lines:")
        parts.extend(f"- {example}" for example in request.examples)
    parts.append(f"The verse ({request.lines} lines):")
    parts.extend(request.lyric_lines)
    parts.append(f'Return exactly {request.lines} lines as {{"lines": [...]}}.')
    return [
        ChatCompletionSystemMessageParam(role="system", content=RESTYLE_PROMPT),
        ChatCompletionUserMessageParam(role="user", content="\n".join(parts)),
    ]


def parse_lines(content: str | None, request: LyricsRequest | RestyleRequest) -> tuple[str, ...]:
    """The lines in the model's answer, or :class:`ValueError` saying what is wrong."""
    if isinstance(request, LyricsRequest):
        expected = f"{request.lines} lines for scheme {request.rhyme_scheme}"
    else:
        expected = f"{request.lines} lines, one per line of the verse"
    if not content:
        raise ValueError("the answer is empty")
    try:
        data: Any = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        raise ValueError('the answer is not an object with a "lines" list')
    raw_lines: list[Any] = data["lines"]
    if len(raw_lines) != request.lines:
        raise ValueError(f"expected {expected}, got {len(raw_lines)}")
    lines: list[str] = []
    for number, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"line {number} is not a non-empty string")
        line = raw.strip()
        if len(line) > MAX_LINE_CHARS or "\n" in line:
            raise ValueError(f"line {number} is longer than one line of {MAX_LINE_CHARS} chars")
        lines.append(line)
    return tuple(lines)


class _RetryableError(Exception):
    """One attempt failed in a way another attempt may not."""

    def __init__(self, reason: OpenAIFailure, detail: str, status_code: int | None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.status_code = status_code


class OpenAILyricsModel:
    """:class:`~.model.LyricsModel` over an OpenAI-compatible ``/chat/completions``.

    Use as ``async with OpenAILyricsModel(config) as model`` or call :meth:`aclose`.
    """

    def __init__(self, config: OpenAILyricsConfig) -> None:
        self._config = config
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
        )

    @property
    def source(self) -> LyricsSource:
        return LyricsSource.OPENAI

    @property
    def config(self) -> OpenAILyricsConfig:
        return self._config

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    async def suggest(self, request: LyricsRequest) -> LyricsSuggestion:
        lines = await self._lines(request, build_messages(request))
        return LyricsSuggestion(
            lines=lines, rhyme_scheme=request.rhyme_scheme, source=LyricsSource.OPENAI
        )

    async def restyle(self, request: RestyleRequest) -> LyricsSuggestion:
        lines = await self._lines(request, build_restyle_messages(request))
        # The scheme is the rewrite's own, measured, not the one asked for.
        scheme = await anyio.to_thread.run_sync(scheme_of, request.text, lines)
        return LyricsSuggestion(lines=lines, rhyme_scheme=scheme, source=LyricsSource.OPENAI)

    async def _lines(
        self, request: LyricsRequest | RestyleRequest, messages: list[ChatCompletionMessageParam]
    ) -> tuple[str, ...]:
        """The validated lines of the answer to ``messages``, retrying what may pass."""
        attempts = 1 + self._config.max_retries
        for attempt in range(attempts):
            if attempt:
                await anyio.sleep(self._config.backoff_before_retry_s(attempt - 1))
            try:
                content = await self._complete(
                    messages, seed=request.seed, attempt_number=attempt + 1
                )
            except _RetryableError as failure:
                if attempt + 1 < attempts:
                    continue
                raise OpenAILyricsError(
                    f"OpenAI lyrics model {self._config.model!r} gave up after"
                    f" {attempts} attempt(s): {failure.detail}",
                    reason=failure.reason,
                    attempts=attempts,
                    status_code=failure.status_code,
                ) from failure
            try:
                return parse_lines(content, request)
            except ValueError as exc:
                raise OpenAILyricsError(
                    f"OpenAI lyrics model {self._config.model!r} returned invalid output: {exc}",
                    reason=OpenAIFailure.INVALID_OUTPUT,
                    attempts=attempt + 1,
                ) from exc
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    async def _complete(
        self, messages: list[ChatCompletionMessageParam], *, seed: int, attempt_number: int
    ) -> str | None:
        """One call: the answer's content; raises :class:`_RetryableError` or
        :class:`OpenAILyricsError`."""
        config = self._config
        try:
            # The client's timeout is per read; this bounds the whole call as well.
            with anyio.fail_after(config.timeout_s):
                if config.stream:
                    return await self._streamed(messages, seed=seed)
                completion = await self._client.chat.completions.create(
                    model=config.model,
                    messages=messages,
                    response_format=ResponseFormatJSONObject(type="json_object"),
                    temperature=config.temperature,
                    seed=seed,
                    timeout=config.timeout_s,
                )
        except (TimeoutError, openai.APITimeoutError) as exc:
            raise _RetryableError(
                OpenAIFailure.TIMEOUT, f"no answer within {config.timeout_s} s", None
            ) from exc
        except openai.APIConnectionError as exc:
            raise _RetryableError(
                OpenAIFailure.CONNECTION, f"connection failed ({exc})", None
            ) from exc
        except openai.APIStatusError as exc:
            status = exc.status_code
            detail = f"HTTP {status} from {config.base_url}"
            if status == 429 or status >= 500:
                raise _RetryableError(OpenAIFailure.STATUS, detail, status) from exc
            raise OpenAILyricsError(
                f"OpenAI lyrics model {config.model!r} refused the request: {detail}",
                reason=OpenAIFailure.STATUS,
                attempts=attempt_number,
                status_code=status,
            ) from exc
        except openai.APIResponseValidationError as exc:
            raise OpenAILyricsError(
                f"OpenAI lyrics model {config.model!r} returned invalid output: {exc}",
                reason=OpenAIFailure.INVALID_OUTPUT,
                attempts=attempt_number,
            ) from exc
        if not completion.choices:
            return None
        return completion.choices[0].message.content

    async def _streamed(self, messages: list[ChatCompletionMessageParam], *, seed: int) -> str:
        """The content of a streamed answer, its chunks joined."""
        config = self._config
        stream = await self._client.chat.completions.create(
            model=config.model,
            messages=messages,
            response_format=ResponseFormatJSONObject(type="json_object"),
            temperature=config.temperature,
            seed=seed,
            timeout=config.timeout_s,
            stream=True,
        )
        parts: list[str] = []
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    parts.append(chunk.choices[0].delta.content)
        return "".join(parts)
