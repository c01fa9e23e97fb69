"""Pure ASGI middleware: request ids and access logs, security headers, body limits,
and the boundary that answers unforeseen exceptions.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jacameno.api.errors import PayloadTooLargeError, error_response, internal_error_response
from jacameno.api.observability import Metrics, redact_query, scrub

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
log = structlog.get_logger("jacameno.http")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), geolocation=(), microphone=(self)",
    # 'wasm-unsafe-eval' lets the page compile WebAssembly (the MIDI synthesizer, FluidSynth
    # in an audio worklet); it allows no JavaScript eval.
    "content-security-policy": (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:;"
        " img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline';"
        " frame-ancestors 'none'"
    ),
}


class RequestContextMiddleware:
    """Give every request an id (``X-Request-ID`` in and out), log it, count it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            # WebSocket frames skip the wrapper: it only adds a header to HTTP answers, and
            # a collaboration socket sends thousands of frames a second.
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        except Exception:
            # Only a fault of the middleware itself gets here (ErrorBoundaryMiddleware
            # answers the app's); uvicorn logs its traceback, once.
            status = 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            if scope["type"] == "http":
                route = _route_template(scope)
                self.metrics.http_requests.labels(scope["method"], route, str(status)).inc()
                self.metrics.http_duration.labels(scope["method"], route).observe(elapsed)
                log.info(
                    "request",
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    **_describe(scope),
                )
            structlog.contextvars.unbind_contextvars("request_id")


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def _describe(scope: Scope) -> dict[str, Any]:
    query = scope.get("query_string", b"").decode("latin-1")
    client = scope.get("client")
    return {
        "method": scope.get("method", "WS"),
        "path": scrub(scope.get("path", "")),
        "query": redact_query(query) if query else "",
        "client": client[0] if client else None,
    }


class ErrorBoundaryMiddleware:
    """Answer an unforeseen exception inside our middleware, and log it once.

    Starlette's own last resort (``ServerErrorMiddleware``) sits outside every user
    middleware: its 500 had no security, CORS or request-id headers, and it re-raised,
    so uvicorn logged a second traceback. Placed innermost, this one logs the
    exception and answers the 500 envelope (HTTP) or closes with 1011 (WebSocket);
    nothing propagates.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            # WebSocket frames go straight through (the collaboration hot path).
            await self.app(scope, receive, send_tracking if scope["type"] == "http" else send)
        except Exception:
            log.exception("request failed", **_describe(scope))
            if scope["type"] == "websocket":
                await _close_quietly(send)
            elif not started:
                request_id = scope.get("state", {}).get("request_id")
                await internal_error_response(request_id)(scope, receive, send)
            # An answer already under way is cut short: uvicorn closes the connection.


async def _close_quietly(send: Send) -> None:
    # Before the handshake uvicorn turns this into HTTP 403; after a close it refuses.
    try:
        await send({"type": "websocket.close", "code": 1011, "reason": "internal error"})
    except (RuntimeError, OSError):
        return


class SecurityHeadersMiddleware:
    """Add conservative security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if hsts:
            self.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class NulRefusalMiddleware:
    """Refuse U+0000 in the path or query string: 400, or a WebSocket refused before accept.

    PostgreSQL text cannot hold U+0000, so ``/api/v1/projects/%00`` reached a query
    and answered 500 there. JSON bodies get the same refusal in :mod:`api.http`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not _has_nul(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            response = error_response(400, "bad_request", "the URL may not contain U+0000 (%00)")
            await response(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 (uploads have their own limit)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_max_bytes: int,
        upload_prefixes: tuple[str, ...],
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.upload_prefixes = upload_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if scope["path"].startswith(self.upload_prefixes):
            limit = self.upload_max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(limit, scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            # A body without (or lying about) Content-Length is counted as it streams;
            # the error handler turns this into the same 413 envelope.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(
                        f"request body exceeds {limit} bytes", details={"limit_bytes": limit}
                    )
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "payload_too_large", f"request body exceeds {limit} bytes", {"limit_bytes": limit}
        )
        await response(scope, receive, send)
