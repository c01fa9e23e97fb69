"""The built browser client (``web/dist``), served at ``/`` from our own origin.

The client routes by path (``/projects/<id>``), so a GET for a page that is not a
file answers ``index.html``; the service worker does the same offline. Hashed
build output under ``/assets/`` never changes and is cached for a year; the page,
the service worker and the manifest are revalidated on every load so a deploy
reaches every tab.
"""

from __future__ import annotations

import gzip
from pathlib import Path, PurePosixPath

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
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
#: Text files worth compressing (the build's JavaScript is ~3x smaller gzipped).
COMPRESSIBLE = frozenset({".js", ".css", ".html", ".svg", ".json", ".webmanifest", ".txt"})
#: Below this many bytes gzip is not worth a header.
MIN_GZIP_BYTES = 1024


class WebClientFiles(StaticFiles):
    """Static files with the single-page fallback, cache headers and gzip described above.

    Text files are gzipped once per file version and kept in memory (the whole build
    is a few hundred kilobytes), for clients that accept gzip.
    """

    def __init__(self, *, directory: Path, html: bool = True) -> None:
        super().__init__(directory=directory, html=html)
        self._gzipped: dict[tuple[str, int, int], bytes] = {}

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
            response.headers["Vary"] = "Accept-Encoding"
            if isinstance(response, FileResponse) and _accepts_gzip(scope):
                return await self._gzip(response)
        return response

    async def _gzip(self, response: FileResponse) -> Response:
        """The same file gzipped, when it is text and big enough to gain from it."""
        file = Path(response.path)
        if file.suffix not in COMPRESSIBLE:
            return response
        stat = response.stat_result or await anyio.Path(file).stat()
        if stat.st_size < MIN_GZIP_BYTES:
            return response
        key = (str(file), stat.st_mtime_ns, stat.st_size)
        body = self._gzipped.get(key)
        if body is None:
            raw = await anyio.Path(file).read_bytes()
            body = await anyio.to_thread.run_sync(lambda: gzip.compress(raw, 6, mtime=0))
            self._gzipped[key] = body
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "etag")
        }
        headers["content-encoding"] = "gzip"
        if etag := response.headers.get("etag"):
            headers["etag"] = etag.rstrip('"') + '-gzip"'
        return Response(body, status_code=200, headers=headers)

    @staticmethod
    def _is_page(path: str, scope: Scope) -> bool:
        """A client route: a GET without a file extension outside the server's paths."""
        full = "/" + path.lstrip("/")
        if scope.get("method") not in ("GET", "HEAD"):
            return False
        if any(full.startswith(prefix) for prefix in SERVER_PREFIXES):
            return False
        return PurePosixPath(path).suffix == ""


def _accepts_gzip(scope: Scope) -> bool:
    accepted = Headers(scope=scope).get("accept-encoding", "")
    return any(part.split(";")[0].strip() == "gzip" for part in accepted.split(","))


def web_client_app(web_dist: Path) -> WebClientFiles | None:
    """The client's files in ``web_dist``, or None when the client has not been built."""
    if not (web_dist / "index.html").is_file():
        return None
    return WebClientFiles(directory=web_dist, html=True)
