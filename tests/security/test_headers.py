"""Every answer carries the security headers, a 500 included, and a fault is logged once.

Before: an unhandled exception was answered by Starlette's ``ServerErrorMiddleware``
outside our middleware (no security headers, no request id), and logged twice (by
our request log and again by uvicorn).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from jacameno.api.middleware import SECURITY_HEADERS
from jacameno.api.settings import Settings
from tests.support.api_client import ApiClient
from tests.support.app_server import run_server
from tests.support.log_capture import captured_logs, log_records

FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 64}
ORIGIN = "https://app.example"
#: A database nothing answers on: every query fails with an unforeseen error.
BROKEN_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"


def assert_secured(answer: httpx.Response) -> None:
    missing = {name for name in SECURITY_HEADERS if name not in answer.headers}
    assert not missing, f"{answer.request.method} {answer.request.url} {answer.status_code}"
    assert answer.headers["x-request-id"]


@pytest.fixture
async def limited_api(start_api: Callable[..., Any]) -> AsyncIterator[ApiClient]:
    overrides = {"max_body_bytes": 2048, "cors_origins": ORIGIN, "rate_limit_auth_ip": "1/minute"}
    async with start_api(**overrides) as (_server, client):
        yield client


async def _chunks(size: int) -> AsyncIterator[bytes]:
    for _ in range(size // 1024):
        yield b"x" * 1024


#: name -> (method, path, keyword arguments, expected status)
ANSWERS: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "ok": ("GET", "/healthz", {}, 200),
    "metrics": ("GET", "/metrics", {}, 200),
    "openapi": ("GET", "/openapi.json", {}, 200),
    "created": (
        "POST",
        "/api/v1/auth/signup",
        {"json": {"email": "a@example.com", "password": "p" * 12}},
        201,
    ),
    "rate limited": (
        "POST",
        "/api/v1/auth/signup",
        {"json": {"email": "b@example.com", "password": "p" * 12}},
        429,
    ),
    "bad JSON": (
        "POST",
        "/api/v1/auth/login",
        {"content": b"{", "headers": {"content-type": "application/json"}},
        400,
    ),
    "unauthorised": ("GET", "/api/v1/me", {}, 401),
    "not found": ("GET", "/no/such/route", {}, 404),
    "wrong method": ("DELETE", "/healthz", {}, 405),
    "too large (declared)": ("POST", "/api/v1/auth/login", {"content": b"x" * 4096}, 413),
    "too large (streamed)": ("POST", "/api/v1/auth/login", {"content": _chunks(8192)}, 413),
    "wrong media type": (
        "POST",
        "/api/v1/auth/login",
        {"content": b"x", "headers": {"content-type": "text/plain"}},
        415,
    ),
    "graphql": ("POST", "/graphql", {"json": {"query": "{ __typename }"}}, 200),
    "graphql error": ("POST", "/graphql", {"json": {"query": "{ me { id } }"}}, 200),
    "graphql bad JSON": (
        "POST",
        "/graphql",
        {"content": b"[", "headers": {"content-type": "application/json"}},
        400,
    ),
    "graphiql": ("GET", "/graphql", {"headers": {"accept": "text/html"}}, 200),
    "cors preflight": (
        "OPTIONS",
        "/api/v1/projects",
        {"headers": {"origin": ORIGIN, "access-control-request-method": "POST"}},
        200,
    ),
}


async def test_every_answer_carries_the_security_headers(limited_api: ApiClient) -> None:
    statuses = {}
    for name, (method, path, kwargs, _status) in ANSWERS.items():
        if name == "too large (streamed)":
            kwargs = {**kwargs, "content": _chunks(8192)}  # a generator is used up once
        answer = await limited_api.call(method, path, **kwargs)
        statuses[name] = answer.status_code
        assert_secured(answer)
    assert statuses == {name: status for name, (*_, status) in ANSWERS.items()}


async def test_an_unexpected_error_is_a_secured_500_logged_once(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(database_url=BROKEN_DATABASE, cors_origins=ORIGIN, **FAST)
    with captured_logs(settings) as logs:
        async with (
            run_server(settings) as server,
            httpx.AsyncClient(base_url=server.base_url) as http,
        ):
            failed = await http.post(
                "/api/v1/auth/login",
                json={"email": "a@example.com", "password": "whatever"},
                headers={"origin": ORIGIN, "x-request-id": "fault-1"},
            )
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(f"{server.ws_url}/collab/{'0' * 32}?token=jmk_x")
    assert failed.status_code == 500
    assert failed.json() == {
        "error": {
            "code": "internal",
            "message": "internal server error",
            "details": {"request_id": "fault-1"},
        }
    }
    assert_secured(failed)
    assert failed.headers["x-request-id"] == "fault-1"
    assert failed.headers["access-control-allow-origin"] == ORIGIN
    assert refused.value.response.status_code == 403
    # One record with a traceback per fault: the login and the socket (the job
    # runner's start-up sweep reports the broken database on its own).
    faults = [
        record
        for record in log_records(logs)
        if "exception" in record and record["logger"] != "jacameno.jobs"
    ]
    assert [record["event"] for record in faults] == ["request failed"] * 2, logs.getvalue()
    assert faults[0]["request_id"] == "fault-1"
    request_lines = [record for record in log_records(logs) if record["event"] == "request"]
    assert [(line["path"], line["status"]) for line in request_lines] == [
        ("/api/v1/auth/login", 500)
    ]
