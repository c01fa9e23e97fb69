"""A scripted OpenAI-compatible server on loopback (``POST /v1/chat/completions``).

A Starlette app under uvicorn in a thread: the official ``openai`` client talks to it
over real HTTP. Each test scripts its answers (success, 429, 500, slow, bad JSON)
and reads back the requests it received.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.app_server import free_port, serve_asgi_in_thread

MODEL = "test-lyricist-1"
API_KEY = "sk-test-key"


@dataclass(frozen=True)
class Answer:
    """One scripted reply: a status and a JSON body, after ``delay_s``."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0


def completion(content: str) -> Answer:
    return Answer(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }
    )


def lines_answer(lines: list[str]) -> Answer:
    return completion(json.dumps({"lines": lines}))


def error_answer(status: int, delay_s: float = 0.0) -> Answer:
    return Answer(status, {"error": {"message": f"scripted {status}", "type": "test"}}, delay_s)


class FakeOpenAI:
    """``POST /v1/chat/completions`` answering from a script, recording each request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.base_url = ""
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    def script(self, *answers: Answer) -> None:
        self.answers = list(answers)

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            answer = self.answers.pop(0) if self.answers else error_answer(599)
        if answer.delay_s:
            await anyio.sleep(answer.delay_s)
        if body.get("stream") and answer.status == 200:
            return StreamingResponse(_chunks(answer), media_type="text/event-stream")
        return JSONResponse(answer.body, status_code=answer.status)


async def _chunks(answer: Answer) -> AsyncIterator[bytes]:
    """A completion as server-sent ``chat.completion.chunk`` events, a few characters each."""
    content = answer.body["choices"][0]["message"]["content"]
    pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        chunk = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": MODEL,
            "choices": [
                {"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}
            ],
        }
        yield f"data: {json.dumps(chunk)}\n\n".encode()
    yield b"data: [DONE]\n\n"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    port = free_port()
    with serve_asgi_in_thread(fake.app, port, lifespan="off"):
        fake.base_url = f"http://127.0.0.1:{port}/v1"
        yield fake
