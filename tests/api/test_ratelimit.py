from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jacameno.api.settings import Settings
from tests.support.api_client import ApiClient
from tests.support.app_server import run_server

FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 64}


async def _login(api: ApiClient, email: str) -> httpx.Response:
    return await api.call(
        "POST", "/api/v1/auth/login", json={"email": email, "password": "wrong password"}
    )


async def test_login_limited_per_ip(start_api: Callable[..., Any]) -> None:
    async with start_api(rate_limit_auth_ip="3/minute") as (_server, api):
        statuses = [(await _login(api, f"u{i}@example.com")).status_code for i in range(4)]
        limited = await _login(api, "u9@example.com")
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"


async def test_login_limited_per_account(start_api: Callable[..., Any]) -> None:
    async with start_api(rate_limit_auth_account="2/minute") as (_server, api):
        target = [(await _login(api, "victim@example.com")).status_code for _ in range(3)]
        other = await _login(api, "someone@example.com")
    assert target == [401, 401, 429]
    assert other.status_code == 401


@pytest.mark.redis
async def test_limits_are_shared_across_instances_through_redis(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    settings = make_settings(redis_url=redis_url, rate_limit_auth_ip="2/minute", **FAST)
    async with (
        run_server(settings) as one,
        run_server(settings) as two,
        httpx.AsyncClient(base_url=one.base_url) as a,
        httpx.AsyncClient(base_url=two.base_url) as b,
    ):
        first = await _login(ApiClient(a), "x@example.com")
        second = await _login(ApiClient(b), "x@example.com")
        third = await _login(ApiClient(a), "y@example.com")
    assert [first.status_code, second.status_code, third.status_code] == [401, 401, 429]
