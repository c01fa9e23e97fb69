"""Forwarding headers count only from proxies listed in ``JACAMENO_TRUSTED_PROXIES``.

Before: uvicorn's default trusted 127.0.0.1, so any local caller chose its own
address, and its own rate-limit bucket, with ``X-Forwarded-For``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from jacameno.api.app import uvicorn_proxy_options
from jacameno.api.settings import Settings, SettingsError, load_settings
from tests.support.api_client import ApiClient


def test_nothing_is_trusted_by_default(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    assert settings.trusted_proxies == ()
    assert uvicorn_proxy_options(settings) == {"proxy_headers": False}


def test_listed_addresses_and_networks_are_trusted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JACAMENO_TRUSTED_PROXIES", " 10.0.0.7, 192.168.1.9/16,fd00::/8 ,::1")
    settings = load_settings(data_dir=tmp_path)
    assert settings.trusted_proxies == ("10.0.0.7", "192.168.0.0/16", "fd00::/8", "::1")
    assert uvicorn_proxy_options(settings) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.7", "192.168.0.0/16", "fd00::/8", "::1"],
    }


@pytest.mark.parametrize("value", ["*", "proxy.internal", "10.0.0.300", "10.0.0.0/33"])
def test_anything_else_stops_start_up(
    value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JACAMENO_TRUSTED_PROXIES", value)
    with pytest.raises(SettingsError, match="JACAMENO_TRUSTED_PROXIES"):
        load_settings(data_dir=tmp_path)


async def _failed_logins(api: ApiClient, forwarded_for: list[str]) -> list[int]:
    statuses = []
    for i, address in enumerate(forwarded_for):
        answer = await api.call(
            "POST",
            "/api/v1/auth/login",
            json={"email": f"nobody{i}@example.com", "password": "wrong password"},
            headers={"x-forwarded-for": address},
        )
        statuses.append(answer.status_code)
    return statuses


async def test_an_untrusted_caller_cannot_choose_its_address(
    start_api: Callable[..., Any],
) -> None:
    async with start_api(rate_limit_auth_ip="2/minute") as (_server, api):
        statuses = await _failed_logins(api, ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    assert statuses == [401, 401, 429]


async def test_a_trusted_proxy_names_the_client(start_api: Callable[..., Any]) -> None:
    async with start_api(rate_limit_auth_ip="2/minute", trusted_proxies="127.0.0.0/8") as (
        _server,
        api,
    ):
        distinct = await _failed_logins(api, ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        same = await _failed_logins(api, ["192.0.2.9"] * 3)
        # The client is the last address not itself a trusted proxy.
        chained = await _failed_logins(api, ["192.0.2.4, 127.0.0.5"] * 3)
    assert distinct == [401, 401, 401]
    assert same == [401, 401, 429]
    assert chained == [401, 401, 429]


async def _refusal(url: str, forwarded_for: str) -> int:
    """How a token-less collaboration socket is refused: the HTTP status of the upgrade,
    or (accept-then-close) the 4xxx close code, which mirrors it."""
    try:
        async with websockets.connect(
            url, additional_headers={"x-forwarded-for": forwarded_for}
        ) as socket:
            await socket.wait_closed()
    except InvalidStatus as refused:
        return refused.response.status_code
    assert socket.close_code is not None
    return socket.close_code - 4000


@pytest.mark.parametrize(
    ("overrides", "statuses"),
    [({}, [401, 429]), ({"trusted_proxies": "127.0.0.1"}, [401, 401])],
    ids=["untrusted", "trusted"],
)
async def test_websocket_connections_count_per_client_too(
    start_api: Callable[..., Any], overrides: dict[str, str], statuses: list[int]
) -> None:
    async with start_api(rate_limit_ws_connect_ip="1/minute", **overrides) as (server, _api):
        url = f"{server.ws_url}/collab/{'0' * 32}"
        refusals = [await _refusal(url, address) for address in ("192.0.2.1", "192.0.2.2")]
    assert refusals == statuses
