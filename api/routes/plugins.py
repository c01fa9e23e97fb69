"""The effect-plugin catalog that the mixing engine can actually apply."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.audio_schemas import PluginList, PluginOut, PluginQuery
from jacameno.api.errors import ValidationFailedError
from jacameno.api.http import ApiRoute, json_response, read_query
from jacameno.audio_services.errors import InvalidEffectChainError
from jacameno.audio_services.plugins import catalog


async def list_plugins(request: Request) -> Response:
    """Every plugin (or one category's) with its parameter schema; public, no sign-in."""
    query = read_query(request, PluginQuery)
    try:
        specs = catalog(query.category)
    except InvalidEffectChainError as exc:
        raise ValidationFailedError(str(exc), details={"field": "category"}) from None
    return json_response(
        PluginList(items=[PluginOut.model_validate(spec.to_json()) for spec in specs])
    )


routes = [
    ApiRoute(
        "/api/v1/vst/plugins",
        list_plugins,
        method="GET",
        summary="Effect plugins the mixing engine applies, with parameter schemas",
        tag="plugins",
        query=PluginQuery,
        response=PluginList,
        auth=False,
        errors=(422,),
    ),
]
