"""The built browser client (``web/dist``), served at ``/`` from our own origin.

The client routes by path (``/projects/<id>``), so a GET for a page that is not a
file answers ``index.html``; the service worker does the same offline. Hashed
build output under ``/assets/`` never changes and is cached for a year; the page,
the service worker and the manifest are revalidated on every load so a deploy
reaches every tab.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: Paths under these prefixes are the server's own; they never fall back to the page.
SERVER_PREFIXES = (
    "/api/",
    "/collab/",
    "/graphql",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
)
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class WebClientFiles(StaticFiles):
    """Static files with the single-page fallback and cache headers described above."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not self._is_page(path, scope):
                raise
            response = await super().get_response("index.html", scope)
        if response.status_code == 200:
            immutable = path.startswith("assets/")
            response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        return response

    @staticmethod
    def _is_page(path: str, scope: Scope) -> bool:
        """A client route: a GET without a file extension outside the server's paths."""
        full = "/" + path.lstrip("/")
        if scope.get("method") not in ("GET", "HEAD"):
            return False
        if any(full.startswith(prefix) for prefix in SERVER_PREFIXES):
            return False
        return PurePosixPath(path).suffix == ""


def web_client_app(web_dist: Path) -> WebClientFiles | None:
    """The client's files in ``web_dist``, or None when the client has not been built."""
    if not (web_dist / "index.html").is_file():
        return None
    return WebClientFiles(directory=web_dist, html=True)
