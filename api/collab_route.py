"""``WS /collab/{project_id}``: authenticate and authorise before accepting, then serve the room.

Browsers cannot set headers on a WebSocket, so the token (access token or API
key) comes as ``?token=``; an ``Authorization: Bearer`` header works too. Every
refusal is an accepted-then-closed socket with a documented 4xxx code
(:class:`collab.channel.CloseCode`), never a 500.
"""

from __future__ import annotations

import structlog
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.auth.permissions import require_project_role, role_allows
from api.auth.principal import bearer_token
from api.db.models import ProjectRole
from api.errors import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
)
from api.services import client_ip, services_of
from api.ws_direct import DirectFrames
from collab.channel import ChannelClosedError, CloseCode

log = structlog.get_logger("jacameno.collab")


class WebSocketChannel:
    """A Starlette WebSocket as a collab ``Channel``."""

    def __init__(self, websocket: WebSocket, send: Send) -> None:
        self._ws = websocket
        self._send = send
        #: Frames written straight to uvicorn's transport when that is equivalent (accepted).
        self._direct = DirectFrames.for_scope(websocket.scope)
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


_REFUSALS: list[tuple[type[ApiError], CloseCode]] = [
    (RateLimitedError, CloseCode.RATE_LIMITED),
    (UnauthorizedError, CloseCode.UNAUTHORIZED),
    (NotFoundError, CloseCode.NOT_FOUND),
    (ForbiddenError, CloseCode.FORBIDDEN),
]


def close_code_for(error: ApiError) -> CloseCode:
    for kind, code in _REFUSALS:
        if isinstance(error, kind):
            return code
    return CloseCode.FORBIDDEN


class CollabEndpoint:
    """The route's ASGI app (a class, so that it gets the raw ASGI ``send`` for frames)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        await collab_session(websocket, send)


async def collab_session(websocket: WebSocket, send: Send) -> None:
    services = services_of(websocket)
    project_id = websocket.path_params["project_id"]
    try:
        await services.rate_limits.hit("ws_connect_ip", client_ip(websocket))
        token = websocket.query_params.get("token") or bearer_token(
            websocket.headers.get("authorization")
        )
        if not token:
            raise UnauthorizedError("pass ?token=<access token or API key>")
        async with services.database.session() as session:
            principal = await services.principal_for(token, session)
            role = await require_project_role(session, principal, project_id, ProjectRole.VIEWER)
    except ApiError as exc:
        refusal = close_code_for(exc)
        log.info(
            "collab connection refused",
            project_id=project_id,
            code=int(refusal),
            reason=exc.message,
        )
        await websocket.accept()
        await websocket.close(refusal, exc.message[:120])
        return
    await websocket.accept()
    services.metrics.websocket_connections.inc()
    try:
        code, reason = await services.rooms.serve(
            WebSocketChannel(websocket, send),
            project_id,
            can_write=role_allows(role, ProjectRole.EDITOR),
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
