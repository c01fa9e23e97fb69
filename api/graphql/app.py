"""The strawberry ASGI application with our context, JSON reader and error envelope."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from jacameno.api.graphql.context import Context
from jacameno.api.graphql.schema import build_schema
from jacameno.api.http import parse_json
from jacameno.api.services import services_of


class _GraphQL(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except StrawberryHTTPException as exc:
            # strawberry answers its refusals as plain text; ours are the JSON envelope.
            raise HTTPException(exc.status_code, exc.reason) from None
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        # The body and GET ``variables``: bounded, and a 400 envelope when malformed.
        return parse_json(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request), "GraphQL subscriptions are not served"
        assert isinstance(response, Response)
        return Context(request=request, services=services_of(request), response=response)


def graphql_route() -> Route:
    """``/graphql``: POST queries and mutations; GET opens the GraphiQL explorer."""
    app: Any = _GraphQL(build_schema(), graphql_ide="graphiql", allow_queries_via_get=False)
    return Route("/graphql", app, methods=["GET", "POST"])
