"""The strawberry ASGI application with our context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.graphql.context import Context
from api.graphql.schema import build_schema
from api.services import services_of


class _GraphQL(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request), "GraphQL subscriptions are not served"
        return Context(request=request, services=services_of(request))


def graphql_route() -> Route:
    """``/graphql``: POST queries and mutations; GET opens the GraphiQL explorer."""
    app: Any = _GraphQL(build_schema(), graphql_ide="graphiql", allow_queries_via_get=False)
    return Route("/graphql", app, methods=["GET", "POST"])
