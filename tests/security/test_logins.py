"""Failed log-ins slow an attacker down without locking the real owner out.

Before: ten failures keyed by the email alone locked the account for everyone,
from everywhere, and a success counted as much as a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jacameno.api.errors import RateLimitedError
from jacameno.api.ratelimit import RateLimits
from jacameno.api.settings import Settings
from tests.support.api_client import DEFAULT_PASSWORD, ApiClient

ATTACKER = "203.0.113.7"
OWNER_ADDRESS = "198.51.100.9"
#: The test server is reached from 127.0.0.1: believe its X-Forwarded-For.
BEHIND_PROXY = {"trusted_proxies": "127.0.0.1"}


async def login(api: ApiClient, email: str, password: str, address: str) -> httpx.Response:
    return await api.call(
        "POST",
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"x-forwarded-for": address},
    )


# ----------------------------------------------------------------------- the component


@pytest.fixture
def throttle_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values = {
            "rate_limit_auth_ip": "20/minute",
            "rate_limit_auth_account": "5/minute",
            "login_delay_step_s": 0.25,
            "login_delay_max_s": 3.0,
        }
        return make_settings(**{**values, **overrides})

    return make


async def test_failures_from_one_address_do_not_refuse_another(
    throttle_settings: Callable[..., Settings],
) -> None:
    logins = RateLimits(throttle_settings()).logins
    for _ in range(5):
        await logins.failed(await logins.start("owner@example.com", ATTACKER))
    with pytest.raises(RateLimitedError) as refused:
        await logins.start("owner@example.com", ATTACKER)
    owner = await logins.start("owner@example.com", OWNER_ADDRESS)
    await logins.succeeded(owner)
    assert refused.value.retry_after_s >= 1
    assert await logins.recent_failures("owner@example.com") == 5


async def test_an_address_over_its_limit_is_refused_for_every_account(
    throttle_settings: Callable[..., Settings],
) -> None:
    logins = RateLimits(throttle_settings(rate_limit_auth_ip="3/minute")).logins
    for i in range(3):
        await logins.failed(await logins.start(f"user{i}@example.com", ATTACKER))
    with pytest.raises(RateLimitedError):
        await logins.start("someone-else@example.com", ATTACKER)
    await logins.start("someone-else@example.com", OWNER_ADDRESS)


async def test_successes_and_refusals_are_not_counted(
    throttle_settings: Callable[..., Settings],
) -> None:
    logins = RateLimits(throttle_settings(rate_limit_auth_account="2/minute")).logins
    for _ in range(10):
        await logins.succeeded(await logins.start("owner@example.com", OWNER_ADDRESS))
    await logins.failed(await logins.start("owner@example.com", OWNER_ADDRESS))
    await logins.failed(await logins.start("owner@example.com", OWNER_ADDRESS))
    for _ in range(5):
        with pytest.raises(RateLimitedError):
            await logins.start("owner@example.com", OWNER_ADDRESS)
    assert await logins.recent_failures("owner@example.com") == 2


async def test_the_delay_grows_with_failures_from_anywhere_and_is_capped(
    throttle_settings: Callable[..., Settings],
) -> None:
    logins = RateLimits(throttle_settings(rate_limit_auth_account="100/minute")).logins
    delays = []
    for i in range(10):
        attempt = await logins.start("owner@example.com", f"192.0.2.{i % 3}")
        delays.append(attempt.delay_s)
        await logins.failed(attempt)
    owner = await logins.start("owner@example.com", OWNER_ADDRESS)
    assert delays == [0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    assert owner.delay_s == 3.0
    assert await logins.recent_failures("nobody@example.com") == 0
    assert logins.delay_for(10_000) == 3.0


async def test_nothing_is_counted_when_limits_are_off(
    throttle_settings: Callable[..., Settings],
) -> None:
    logins = RateLimits(throttle_settings(rate_limits_enabled=False)).logins
    for _ in range(20):
        attempt = await logins.start("owner@example.com", ATTACKER)
        await logins.failed(attempt)
    assert attempt.delay_s == 0.0
    assert await logins.recent_failures("owner@example.com") == 0


# ----------------------------------------------------------------------- end to end


async def test_an_attacker_elsewhere_cannot_lock_the_owner_out(
    start_api: Callable[..., Any],
) -> None:
    overrides = {**BEHIND_PROXY, "login_delay_step_s": 0.02, "login_delay_max_s": 0.2}
    async with start_api(**overrides) as (_server, api):
        owner = await api.signup()
        attacks = [await login(api, owner.email, "wrong guess", ATTACKER) for _ in range(30)]
        started = time.perf_counter()
        owners_login = await login(api, owner.email, DEFAULT_PASSWORD, OWNER_ADDRESS)
        owner_wait_s = time.perf_counter() - started
        still_refused = await login(api, owner.email, DEFAULT_PASSWORD, ATTACKER)
    statuses = [answer.status_code for answer in attacks]
    # The default limit: 10 failures per account from one address, then 429.
    assert statuses == [401] * 10 + [429] * 20
    assert int(attacks[-1].headers["retry-after"]) >= 1
    assert attacks[-1].json()["error"]["code"] == "rate_limited"
    assert owners_login.status_code == 200, owners_login.text
    # Slowed by the ten failures (0.02 s doubling, capped at 0.2 s), not much longer.
    assert 0.2 <= owner_wait_s < 5.0
    assert still_refused.status_code == 429


async def test_successful_logins_are_not_counted(start_api: Callable[..., Any]) -> None:
    async with start_api(rate_limit_auth_account="3/minute", rate_limit_auth_ip="3/minute") as (
        _server,
        api,
    ):
        owner = await api.signup()
        answers = [await login(api, owner.email, DEFAULT_PASSWORD, OWNER_ADDRESS) for _ in range(8)]
    assert [answer.status_code for answer in answers] == [200] * 8
