"""Secrets never reach the logs, in any spelling.

The server runs with its real logging configuration while a client signs up,
logs in, refreshes, logs out, invites (accepted and refused), makes and uses an
API key, and sends tokens in query strings spelled every way Starlette accepts,
over HTTP and WebSocket. Then no secret may appear in the output: raw,
percent-encoded, partly encoded or double-encoded.

Before: invite tokens were logged in request paths, and ``?%74oken=<JWT>`` (which
Starlette decodes to ``token``) was logged whole, as were uvicorn's WebSocket lines.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import anyio
import websockets
from websockets.exceptions import InvalidStatus

from jacameno.api.settings import Settings
from tests.support.api_client import DEFAULT_PASSWORD, Account, ApiClient
from tests.support.log_capture import captured_logs, log_records

#: A run of this many characters of a secret is a leak.
WINDOW = 12


def encoded(secret: str, every: int = 1) -> str:
    """``secret`` with every ``every``-th character percent-encoded (1: all of them)."""
    return "".join(f"%{ord(c):02X}" if i % every == 0 else c for i, c in enumerate(secret))


def leaks(secret: str, output: str) -> list[str]:
    """Runs of ``secret`` found in ``output`` (also once and twice percent-decoded)."""
    spellings = {output, unquote(output), unquote(unquote(output))}
    runs = {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    return sorted(run for run in runs if any(run in text for text in spellings))


async def _collab_session(ws_url: str, query: str) -> int | None:
    """Open a collaboration socket, read its first frame, close: the close code, or the
    HTTP status of a refusal (a 4xxx close code mirrors one: 4401 is 401)."""
    try:
        async with websockets.connect(f"{ws_url}?{query}") as socket:
            with anyio.fail_after(10), contextlib.suppress(websockets.ConnectionClosed):
                await socket.recv()
    except InvalidStatus as refused:
        return refused.response.status_code
    code = socket.close_code
    return code - 4000 if code is not None and code >= 4000 else code


async def _exercise(api: ApiClient, ws_base: str) -> tuple[list[str], dict[str, Any]]:
    """Everything that handles a secret; returns the secrets and a few answers."""
    answers: dict[str, Any] = {}
    owner = await api.signup(password=DEFAULT_PASSWORD)
    member = await api.signup()
    login = await api.call(
        "POST", "/api/v1/auth/login", json={"email": owner.email, "password": DEFAULT_PASSWORD}
    )
    failed_login = await api.call(
        "POST", "/api/v1/auth/login", json={"email": owner.email, "password": "a wrong one"}
    )
    refreshed = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    access = refreshed.json()["access_token"]
    project_id = await api.create_project(owner)
    invite = await api.call(
        "POST",
        f"/api/v1/projects/{project_id}/invites",
        owner.access_token,
        json={"role": "editor"},
    )
    invite_token = invite.json()["token"]
    accept = f"/api/v1/invites/{invite_token}/accept"
    answers["accepted"] = (await api.call("POST", accept, member.access_token)).status_code
    answers["accepted again"] = (await api.call("POST", accept, member.access_token)).status_code
    bogus_invite = secrets.token_urlsafe(32)
    answers["bogus invite"] = (
        await api.call(
            "POST", f"/api/v1/invites/{encoded(bogus_invite, 5)}/accept", member.access_token
        )
    ).status_code
    api_key = await api.api_key(owner, project_id, "editor")
    answers["api key use"] = (await api.call("GET", "/api/v1/me", api_key)).status_code
    queries = [
        f"token={access}",
        f"%74oken={access}",
        f"TOKEN={owner.access_token}",
        f"token={encoded(access)}",
        f"t%6Fken={encoded(access, 7)}",
        f"access_token={member.access_token}",
        f"refresh_token={refreshed.json()['refresh_token']}",
        f"api_key={api_key}",
        f"Key={encoded(api_key, 3)}",
        f"q={owner.refresh_token}",
        f"next=/somewhere&note={member.refresh_token}",
        f"%2574oken={access}",
    ]
    for query in queries:
        await api.call("GET", f"/api/v1/me?{query}")
        await api.call("GET", f"/api/v1/projects/{project_id}?{query}", owner.access_token)
    collab = f"{ws_base}/collab/{project_id}"
    answers["ws"] = [
        await _collab_session(collab, f"token={access}"),
        await _collab_session(collab, f"%74oken={owner.access_token}"),
        await _collab_session(collab, f"token={encoded(api_key, 4)}"),
        await _collab_session(collab, f"token={member.access_token[:-3]}xyz"),
    ]
    reused = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    logout = await api.call(
        "POST",
        "/api/v1/auth/logout",
        owner.access_token,
        json={"refresh_token": owner.refresh_token},
    )
    answers["statuses"] = [failed_login.status_code, reused.status_code, logout.status_code]
    accounts: list[Account] = [owner, member]
    found = [
        *(
            secret
            for account in accounts
            for secret in (account.access_token, account.refresh_token)
        ),
        login.json()["access_token"],
        login.json()["refresh_token"],
        access,
        refreshed.json()["refresh_token"],
        invite_token,
        bogus_invite,
        api_key,
        DEFAULT_PASSWORD,
    ]
    return found, answers


async def test_no_secret_reaches_the_logs(
    start_api: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    with captured_logs(make_settings()) as logs:
        async with start_api() as (server, api):
            found, answers = await _exercise(api, server.ws_url)
    output = logs.getvalue()
    assert answers["accepted"] == 200
    assert answers["accepted again"] == 409
    assert answers["bogus invite"] == 404
    assert answers["api key use"] == 200
    assert answers["ws"][:3] == [1000, 1000, 1000]
    assert answers["ws"][3] == 401
    assert answers["statuses"] == [401, 401, 204]
    assert {secret: leaks(secret, output) for secret in found} == {secret: [] for secret in found}
    # The lines are there, with the secrets cut out.
    records = log_records(logs)
    paths = {record.get("path") for record in records if record["event"] == "request"}
    assert "/api/v1/invites/[redacted]/accept" in paths
    queries = {record.get("query") for record in records if record["event"] == "request"}
    assert {"token=[redacted]", "%74oken=[redacted]", "TOKEN=[redacted]"} <= queries
    websocket_lines = [r["event"] for r in records if '"WebSocket /collab/' in r["event"]]
    assert len(websocket_lines) == 4
    assert all("[redacted]" in line for line in websocket_lines)


def test_uvicorn_records_carry_no_terminal_colour_copy(
    make_settings: Callable[..., Settings],
) -> None:
    """uvicorn logs its message twice, once with ANSI colour codes (``color_message``);
    a JSON line keeps the plain one only."""
    with captured_logs(make_settings()) as stream:
        logging.getLogger("uvicorn.error").info(
            "Finished server process [%d]",
            42,
            extra={"color_message": "Finished server process [\x1b[36m%d\x1b[0m]"},
        )
    (record,) = log_records(stream)
    assert record["event"] == "Finished server process [42]"
    assert "color_message" not in record
