"""The served OpenAPI document, and a bounded schemathesis run over it that finds no 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from jacameno.api.app import build_routes
from jacameno.api.openapi import build_openapi
from jacameno.api.settings import load_settings
from tests.support.app_server import RunningServer, serve_in_thread

SCHEMA = schemathesis.openapi.from_dict(
    build_openapi(build_routes(load_settings(env="test", secret_key="s" * 40)), version="test")
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    config = load_settings(
        env="test",
        data_dir=root,
        database_url=f"sqlite+aiosqlite:///{root / 'db.sqlite'}",
        storage_url=f"file://{root / 'storage'}",
        secret_key="s" * 40,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        rate_limits_enabled=False,
        log_level="WARNING",
    )
    with serve_in_thread(config) as running:
        signup = httpx.post(
            f"{running.base_url}/api/v1/auth/signup",
            json={"email": "fuzz@example.com", "password": "fuzzing password"},
        )
        token = signup.json()["access_token"]
        httpx.post(
            f"{running.base_url}/api/v1/projects",
            json={"name": "fuzzed"},
            headers={"authorization": f"Bearer {token}"},
        )
        yield running, token


def test_openapi_is_served(server: tuple[RunningServer, str]) -> None:
    running, _token = server
    document = httpx.get(f"{running.base_url}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/auth/signup" in document["paths"]
    assert "/api/v1/projects/{project_id}/members" in document["paths"]
    signup = document["paths"]["/api/v1/auth/signup"]["post"]
    assert signup["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "SignupIn"
    )


@SCHEMA.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: schemathesis.Case, server: tuple[RunningServer, str]) -> None:
    running, token = server
    case.call_and_validate(
        base_url=running.base_url,
        headers={"authorization": f"Bearer {token}"},
        checks=[not_a_server_error],
        timeout=30,
    )
