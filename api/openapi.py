"""The OpenAPI 3.1 document, built from the routes' own declarations and pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jacameno.api.http import ApiRoute

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


def build_openapi(routes: list[BaseRoute], *, version: str) -> dict[str, Any]:
    """Describe every :class:`ApiRoute` in ``routes``."""
    api_routes = [route for route in routes if isinstance(route, ApiRoute)]
    models: set[type[BaseModel]] = set()
    for route in api_routes:
        models.update(m for m in (route.body, route.response) if m is not None)
    _, defs = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for route in api_routes:
        path = _PARAM.sub(r"{\1}", route.path)
        operation: dict[str, Any] = {
            "summary": route.summary,
            "tags": [route.tag],
            "operationId": f"{route.method.lower()}_{route.name}",
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _PARAM.findall(route.path)
            ],
            "responses": {},
        }
        if route.description is not None:
            operation["description"] = route.description
        if route.query is not None:
            query_schema = route.query.model_json_schema()
            for name, prop in query_schema.get("properties", {}).items():
                operation["parameters"].append(
                    {
                        "name": name,
                        "in": "query",
                        "required": name in query_schema.get("required", []),
                        "schema": prop,
                    }
                )
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}
                    }
                },
            }
        ok: dict[str, Any] = {"description": "Success"}
        if route.response is not None:
            ok["content"] = {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{route.response.__name__}"}
                }
            }
        operation["responses"][str(route.status)] = ok
        for status in route.errors:
            operation["responses"][str(status)] = {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        if route.auth:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "JACAMENO API",
            "version": version,
            "description": "Accounts, projects, permissions and music services. Errors are"
            ' {"error": {"code", "message", "details"}}.',
            "license": {"name": "GPL-3.0-or-later", "identifier": "GPL-3.0-or-later"},
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An access token (JWT) or a project API key (jmk_...).",
                }
            },
        },
    }


def openapi_route(routes: list[BaseRoute], *, version: str) -> Route:
    document = build_openapi(routes, version=version)

    async def serve(_request: Request) -> Response:
        return JSONResponse(document)

    return Route("/openapi.json", serve, methods=["GET"])
