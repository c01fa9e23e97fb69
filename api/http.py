"""HTTP plumbing shared by the REST routes: typed bodies, JSON answers, documented routes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jacameno.api.errors import BadRequestError, UnsupportedMediaTypeError, ValidationFailedError

ModelT = TypeVar("ModelT", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as ``[{"field", "message"}]`` without echoing the input."""
    return [
        {"field": ".".join(str(p) for p in item["loc"]) or "body", "message": item["msg"]}
        for item in exc.errors(include_url=False, include_input=False)
    ]


#: A ``\u0000`` escape (after an even run of backslashes, so not ``\\u0000``).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _refuse_nul(raw: bytes) -> None:
    # PostgreSQL text cannot hold U+0000 (a 500 there); refused on every backend alike.
    if b"\\u0000" in raw and _NUL_ESCAPE.search(raw):
        raise BadRequestError("JSON strings may not contain U+0000")


def parse_json(raw: bytes | str) -> Any:
    """Parse JSON from a client, bounded: 400 when malformed or nested too deep.

    pydantic-core's parser (the one :func:`read_body` uses) runs in Rust and stops at
    200 levels of nesting, so ``[[[[...]]]]`` costs no Python recursion. The
    ``NaN`` and ``Infinity`` literals are not JSON, and U+0000 is refused in strings.
    """
    _refuse_nul(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    try:
        return from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise BadRequestError("malformed JSON body", details={"reason": str(exc)}) from None


async def read_body(request: Request, model: type[ModelT]) -> ModelT:
    """Parse the JSON body into ``model``: 415, 400 (malformed, over 200 levels deep,
    or with U+0000 in a string) or 422 (wrong shape)."""
    content_type = request.headers.get("content-type", "")
    if content_type and not content_type.split(";")[0].strip().lower().endswith("json"):
        raise UnsupportedMediaTypeError("send the body as application/json")
    raw = await request.body()
    _refuse_nul(raw)
    try:
        # JSON mode: strict types, yet enums and datetimes accept their JSON spelling.
        return model.model_validate_json(raw.strip() or b"{}")
    except ValidationError as exc:
        if any(item["type"] == "json_invalid" for item in exc.errors()):
            raise BadRequestError("malformed JSON body") from None
        raise ValidationFailedError(
            "the body is not valid", details=validation_details(exc)
        ) from None


def read_query(request: Request, model: type[ModelT]) -> ModelT:
    """Parse query parameters into ``model`` (422 when they do not fit)."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise ValidationFailedError(
            "the query parameters are not valid", details=validation_details(exc)
        ) from None


def json_response(content: BaseModel | list[Any] | dict[str, Any], status: int = 200) -> Response:
    if isinstance(content, BaseModel):
        return JSONResponse(content.model_dump(mode="json"), status_code=status)
    return JSONResponse(content, status_code=status)


class ApiRoute(Route):
    """A route that also describes itself for the OpenAPI document."""

    def __init__(
        self,
        path: str,
        endpoint: Handler,
        *,
        method: str,
        summary: str,
        tag: str,
        description: str | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method
        self.summary = summary
        self.description = description
        self.tag = tag
        self.body = body
        self.query = query
        self.response = response
        self.status = status
        self.auth = auth
        self.errors = errors
