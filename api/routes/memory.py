"""``/api/v1/me/memory``: what the AI memory keeps about the caller, and forgetting it.

The memory holds the lines a user accepted, edited, rejected or wrote, and the
presets they chose, as vectors that personalise suggestions. It belongs to a
person: API keys cannot read or delete it. Deleting the account deletes it too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import require_user
from jacameno.api.errors import NotFoundError
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.lyrics_schemas import MemoryOut
from jacameno.api.services import require_principal, services_of

#: Items listed at most (newest first).
MEMORY_LIST_LIMIT = 500


async def get_memory(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
    memory = services.lyrics.memory
    if memory is None:
        raise NotFoundError("this server keeps no AI memory")
    items = await memory.items(user.user_id, limit=MEMORY_LIST_LIMIT)
    return json_response(
        MemoryOut.model_validate(
            {
                "embedding_model": memory.embedding_model,
                "style_version": await memory.style_version(user.user_id),
                "items": [item.as_json() for item in items],
            }
        )
    )


async def forget_all(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
    if services.lyrics.memory is not None:
        await services.lyrics.memory.forget_user(user.user_id)
    return Response(status_code=204)


async def forget_one(request: Request) -> Response:
    services = services_of(request)
    async with services.database.session() as session:
        user = require_user(await require_principal(request, session))
    item_id = request.path_params["item_id"]
    memory = services.lyrics.memory
    if memory is None or not await memory.forget(user.user_id, item_id):
        raise NotFoundError(f"no memory item {item_id}")
    return Response(status_code=204)


routes = [
    ApiRoute(
        "/api/v1/me/memory",
        get_memory,
        method="GET",
        summary="What the AI memory keeps about you",
        tag="lyrics",
        response=MemoryOut,
        errors=(401, 403, 404),
    ),
    ApiRoute(
        "/api/v1/me/memory",
        forget_all,
        method="DELETE",
        summary="Forget everything the AI memory keeps about you",
        tag="lyrics",
        status=204,
        errors=(401, 403),
    ),
    ApiRoute(
        "/api/v1/me/memory/{item_id}",
        forget_one,
        method="DELETE",
        summary="Forget one item of your AI memory",
        tag="lyrics",
        status=204,
        errors=(401, 403, 404),
    ),
]
