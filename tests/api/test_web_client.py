"""The built browser client served at ``/`` (api/web_client.py): page routes fall back to
index.html and are revalidated, hashed assets are immutable, the server's own paths keep
their JSON errors, and nothing is mounted when the client has not been built."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jacameno.api.settings import load_settings
from jacameno.api.web_client import IMMUTABLE, REVALIDATE

INDEX = "<!doctype html><title>JACAMENO</title>"
#: The client's pages (web/src/router.ts), with the query and fragment emailed links carry.
PAGES = (
    "/",
    "/index.html",
    "/projects/abc",
    "/login?next=/projects/abc",
    "/login?notice=check-email&provider=google",
    "/signup",
    "/account",
    "/account?linked=github",
    "/account/memory",
    "/forgot-password",
    "/reset-password#token=t",
    "/verify-email#token=t",
    "/confirm-link#token=t",
    "/auth/done#handoff=h",
)


@pytest.fixture
def web_dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "x.js").write_text("console.log(1)")
    (dist / "sw.js").write_text("self.skipWaiting()")
    return dist


async def test_pages_assets_and_server_paths(start_api: Callable[..., Any], web_dist: Path) -> None:
    async with start_api(web_dist=web_dist) as (_server, api):
        for path in PAGES:
            page = await api.http.get(path)
            assert page.status_code == 200, path
            assert page.text == INDEX, path
            assert page.headers["content-type"].startswith("text/html"), path
            assert page.headers["cache-control"] == REVALIDATE, path

        asset = await api.http.get("/assets/x.js")
        assert asset.status_code == 200
        assert asset.text == "console.log(1)"
        assert asset.headers["cache-control"] == IMMUTABLE
        assert "javascript" in asset.headers["content-type"]

        worker = await api.http.get("/sw.js")
        assert worker.status_code == 200
        assert worker.headers["cache-control"] == REVALIDATE

        nope = await api.http.get("/api/v1/nope")
        assert nope.status_code == 404
        assert nope.headers["content-type"].startswith("application/json")
        assert nope.json()["error"]["code"] == "not_found"

        for path in ("/missing.js", "/assets/missing.js"):
            missing = await api.http.get(path)
            assert missing.status_code == 404, path
            assert INDEX not in missing.text, path

        # Only GET and HEAD fall back to the page.
        assert (await api.http.head("/projects/abc")).status_code == 200
        assert (await api.http.post("/projects/abc")).status_code in (404, 405)

        # The server's own endpoints still answer as before.
        health = await api.http.get("/healthz")
        assert health.status_code == 200
        assert health.headers["content-type"].startswith("application/json")


async def test_nothing_mounted_without_index_html(
    start_api: Callable[..., Any], tmp_path: Path
) -> None:
    empty = tmp_path / "empty-dist"
    (empty / "assets").mkdir(parents=True)
    (empty / "assets" / "x.js").write_text("console.log(1)")
    async with start_api(web_dist=empty) as (_server, api):
        for path in ("/", "/projects/abc", "/assets/x.js"):
            response = await api.http.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("application/json"), path


def test_web_dist_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JACAMENO_WEB_DIST", str(tmp_path))
    assert load_settings(env="test", secret_key="s" * 48).web_dist == tmp_path


async def test_text_files_are_gzipped_for_clients_that_accept_it(
    start_api: Callable[..., Any], web_dist: Path
) -> None:
    script = "console.log('a fairly long line of JavaScript');\n" * 200
    (web_dist / "assets" / "big.js").write_text(script)
    async with start_api(web_dist=web_dist) as (_server, api):
        zipped = await api.http.get("/assets/big.js", headers={"accept-encoding": "gzip"})
        assert zipped.status_code == 200
        assert zipped.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["vary"]
        assert zipped.headers["cache-control"] == IMMUTABLE
        assert int(zipped.headers["content-length"]) < len(script) / 10
        assert zipped.text == script  # httpx decodes it

        plain = await api.http.get("/assets/big.js", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.text == script

        # Small files are not worth it.
        small = await api.http.get("/assets/x.js", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in small.headers
