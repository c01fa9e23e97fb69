"""``WS /collab/{project_id}``: authenticate and authorise before accepting, then serve the room.

Browsers cannot set headers on a WebSocket, so the token (access token or API
key) comes as ``?token=``; an ``Authorization: Bearer`` header works too.

Every refusal is an HTTP answer to the upgrade request (401, 403, 404, 429 with
the JSON error envelope, through the ASGI WebSocket denial response), never an
accepted socket that is then closed: y-websocket 1.x and 2.x reset their
reconnect back-off whenever a socket opens, so accept-then-close made a tab with
a stale token reconnect about nine times a second forever. Under an ASGI server
without the denial extension, refusals fall back to accept-then-close with the
documented 4xxx code, from the one table of :mod:`collab.close_codes`.

The connect rate limit is keyed by address *and* credential, so one
misbehaving client cannot get everyone behind the same address refused.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging

import structlog
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from jacameno.api.auth.permissions import require_project_role
from jacameno.api.auth.principal import bearer_token
from jacameno.api.db.models import ProjectRole
from jacameno.api.error_table import api_error_for
from jacameno.api.errors import ApiError, RateLimitedError, UnauthorizedError, error_response
from jacameno.api.live_access import grant_for
from jacameno.api.services import AppServices, client_ip, services_of
from jacameno.api.ws_direct import DirectFrames, FramesFactory
from jacameno.collab.channel import ChannelClosedError
from jacameno.collab.close_codes import close_for

#: The ASGI extension that lets a WebSocket route answer the upgrade with HTTP.
DENIAL_EXTENSION = "websocket.http.response"
#: What uvicorn (0.54, sans-I/O protocol) logs at ERROR after every denial response,
#: because its handshake flag stays unset: the refusal itself went out as sent.
_UVICORN_DENIAL_NOISE = "ASGI callable returned without completing handshake."
#: Set in the task that answered an upgrade with a denial response.
_denied = contextvars.ContextVar("jacameno_ws_denied", default=False)


class DenialNoiseFilter(logging.Filter):
    """Drops uvicorn's spurious error line for upgrades this route refused on purpose.

    uvicorn logs it from the same task right after the route returns, so the
    context variable :func:`refuse` set is still visible; any other occurrence
    (a route that really forgot the handshake) is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage() == _UVICORN_DENIAL_NOISE and _denied.get())


def install_denial_noise_filter() -> None:
    """Add :class:`DenialNoiseFilter` to uvicorn's error logger once (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, DenialNoiseFilter) for f in logger.filters):
        logger.addFilter(DenialNoiseFilter())


log = structlog.get_logger("jacameno.collab")


class WebSocketChannel:
    """A Starlette WebSocket as a collab ``Channel``."""

    def __init__(
        self,
        websocket: WebSocket,
        send: Send,
        *,
        frames: FramesFactory | None = DirectFrames.for_scope,
    ) -> None:
        self._ws = websocket
        self._send = send
        #: Frames written straight to uvicorn's transport when that is equivalent (accepted).
        self._direct = frames(websocket.scope) if frames is not None else None
        client = websocket.client
        self._remote = f"{client.host}:{client.port}" if client else "unknown"

    @property
    def remote(self) -> str:
        return self._remote

    async def receive(self) -> bytes:
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise ChannelClosedError(message.get("code", 1000))
        data = message.get("bytes")
        if data is None:
            # y-websocket speaks binary only; a text frame fails decoding as malformed.
            text: str = message.get("text") or ""
            return b"\xff" + text.encode()
        return bytes(data)

    def send_now(self, message: bytes) -> bool:
        # The hot path of every relay: the frame straight to the transport when it takes data.
        return self._direct is not None and self._direct.try_send(message)

    async def send(self, message: bytes) -> None:
        # One ASGI event straight to the server, without Starlette's per-call state
        # checks (the socket is known to be accepted).
        if self.send_now(message):
            return
        try:
            await self._send({"type": "websocket.send", "bytes": message})
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise ChannelClosedError(str(exc)) from exc

    async def close(self, code: int, reason: str) -> None:
        if self._ws.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            await self._ws.close(code, reason)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return


class CollabEndpoint:
    """The route's ASGI app (a class, so that it gets the raw ASGI ``send`` for frames)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await collab_session(websocket, send)


def _credential_key(token: str | None) -> str:
    """A short digest naming the credential in rate-limit keys (never the token itself)."""
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


async def refuse(websocket: WebSocket, error: ApiError) -> None:
    """Answer the upgrade with the HTTP error (or, without the extension, accept and close)."""
    if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
        headers = None
        if isinstance(error, RateLimitedError):
            headers = {"Retry-After": str(error.retry_after_s)}
        response = error_response(error.status, error.code, error.message, error.details, headers)
        _denied.set(True)
        await websocket.send_denial_response(response)
        return
    await websocket.accept()
    code, reason = close_for(error)
    await websocket.close(code, reason)


def _frames_factory(services: AppServices) -> FramesFactory | None:
    return services.frames_factory if services.settings.collab_direct_frames else None


async def collab_session(websocket: WebSocket, send: Send) -> None:
    services = services_of(websocket)
    project_id = websocket.path_params["project_id"]
    try:
        token = websocket.query_params.get("token") or bearer_token(
            websocket.headers.get("authorization")
        )
        await services.rate_limits.hit(
            "ws_connect_ip", client_ip(websocket), _credential_key(token)
        )
        if not token:
            raise UnauthorizedError("pass ?token=<access token or API key>")
        async with services.database.session() as session:
            principal = await services.principal_for(
                token,
                session,
                ip=client_ip(websocket),
                agent=websocket.headers.get("user-agent", ""),
            )
            role = await require_project_role(session, principal, project_id, ProjectRole.VIEWER)
    except Exception as exc:
        # The error table answers the refusal; anything unforeseen goes on to the
        # error boundary (a 1011 close, or 403 before the handshake).
        error = api_error_for(exc)
        if error is None:
            raise
        log.info(
            "collab connection refused",
            project_id=project_id,
            status=error.status,
            reason=error.message,
        )
        await refuse(websocket, error)
        return
    await websocket.accept()
    services.metrics.websocket_connections.inc()
    try:
        code, reason = await services.rooms.serve(
            WebSocketChannel(websocket, send, frames=_frames_factory(services)),
            project_id,
            grant_for(principal, role),
        )
    finally:
        services.metrics.websocket_connections.dec()
    log.info(
        "collab connection closed",
        project_id=project_id,
        actor=principal.actor,
        role=role.value,
        code=code,
        reason=reason,
    )


routes = [WebSocketRoute("/collab/{project_id}", CollabEndpoint())]
