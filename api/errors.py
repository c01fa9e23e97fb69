"""The API's exception tree and the one JSON error envelope.

Every 4xx/5xx answer is ``{"error": {"code", "message", "details"}}``, and its
``X-Request-ID`` header names the request in our logs. Errors of the lower
packages (``collab``, ``audio_services``, ``docs_model``) are mapped to HTTP in
one table, :mod:`api.error_table`, and nowhere else.

- :class:`ApiError` (500, ``internal``): root; carries ``status``, ``code``, ``details``.
  - :class:`BadRequestError` (400) / :class:`ValidationFailedError` (422)
  - :class:`UnauthorizedError` (401) / :class:`ForbiddenError` (403)
  - :class:`NotFoundError` (404) / :class:`ConflictError` (409)
  - :class:`PayloadTooLargeError` (413) / :class:`UnsupportedMediaTypeError` (415)
  - :class:`RateLimitedError` (429, with ``retry_after_s``)
  - :class:`ServiceUnavailableError` (503)
  - :class:`StorageError` and its subclasses in :mod:`api.storage.base`
"""

from __future__ import annotations

from typing import Any, ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    503: "service_unavailable",
}


class ApiError(Exception):
    """Root of the API's errors; ``status`` and ``code`` choose the HTTP answer."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequestError(ApiError):
    status = 400
    code = "bad_request"


class ValidationFailedError(ApiError):
    status = 422
    code = "validation_failed"


class UnauthorizedError(ApiError):
    status = 401
    code = "unauthorized"


class ForbiddenError(ApiError):
    status = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLargeError(ApiError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(ApiError):
    status = 415
    code = "unsupported_media_type"


class RateLimitedError(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class ServiceUnavailableError(ApiError):
    status = 503
    code = "service_unavailable"


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error envelope."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


async def handle_api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


async def handle_http_exception(_request: Request, exc: Exception) -> Response:
    """Routing errors (404, 405) and any ``HTTPException`` get the same envelope."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=headers)
    return error_response(exc.status_code, code, str(exc.detail), None, headers)


def internal_error_response(request_id: str | None = None) -> JSONResponse:
    """The answer to anything unforeseen: a 500 without internals, carrying the request
    id (also in ``X-Request-ID``) that finds the logged traceback."""
    details = {"request_id": request_id} if request_id else None
    return error_response(500, "internal", "internal server error", details)


async def handle_unexpected(request: Request, _exc: Exception) -> Response:
    """Last resort for a fault outside the error boundary (api.middleware); uvicorn logs it."""
    return internal_error_response(getattr(request.state, "request_id", None))
