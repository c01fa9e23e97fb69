"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jacameno.api.db.migrate import SchemaMismatchError, head_revision, schema_revision
from jacameno.api.services import services_of

#: Seconds each dependency gets to answer a readiness probe.
READINESS_TIMEOUT_S = 3.0


async def healthz(_request: Request) -> Response:
    """The process is alive and serving."""
    return JSONResponse({"status": "ok"})


async def _probe(check: Callable[[], Awaitable[object]]) -> dict[str, str]:
    """Run one check; a check that returns a dict adds its fields (and may set ``status``)."""
    try:
        with anyio.fail_after(READINESS_TIMEOUT_S):
            details = await check()
    except TimeoutError:
        return {"status": "error", "error": f"no answer within {READINESS_TIMEOUT_S} s"}
    except Exception as exc:  # readiness reports any failure, whatever its type
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "ok", **(details if isinstance(details, dict) else {})}


async def _schema(engine: AsyncEngine) -> dict[str, str]:
    """The database's schema revision beside the code's; an error when they differ."""
    current = await schema_revision(engine)
    head = head_revision()
    revisions = {"current": current or "none", "head": head}
    if current != head:
        return {"status": "error", **revisions, "error": str(SchemaMismatchError(current, head))}
    return revisions


async def readyz(request: Request) -> Response:
    """Each dependency with its status and the schema revision; 503 when any is not ok."""
    services = services_of(request)
    checks: dict[str, Callable[[], Awaitable[object]]] = {
        "database": services.database.check,
        "storage": services.store.check,
        "schema": partial(_schema, services.database.engine),
    }
    if services.redis is not None:
        checks["redis"] = services.redis.ping
    results: dict[str, dict[str, str]] = {}

    async def run(name: str, check: Callable[[], Awaitable[object]]) -> None:
        results[name] = await _probe(check)

    async with anyio.create_task_group() as group:
        for name, check in checks.items():
            group.start_soon(run, name, check)
    ready = all(result["status"] == "ok" for result in results.values())
    body = {"status": "ok" if ready else "unavailable", "checks": dict(sorted(results.items()))}
    return JSONResponse(body, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    registry = services_of(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
