"""The one table that answers the lower packages' errors in HTTP.

``docs_model``, ``collab`` and ``audio_services`` each raise from one root
exception and know nothing of HTTP. :func:`api.app.create_app` registers
:func:`handle_mapped_error` for every class in :data:`ERROR_TABLE`, so a route
lets them propagate and the caller gets the usual envelope (``api.errors``) with
the status below; GraphQL reads the same table (:func:`api_error_for`), and the
collaboration route turns the result into a refusal. An exception in neither
this table nor the :class:`~api.errors.ApiError` tree is unforeseen: the error
boundary (``api.middleware``) logs it and answers the 500 envelope.

The most specific class listed wins (the exception's MRO is walked), so a
subclass needs a row only when its answer differs from its root's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.errors import (
    ApiError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationFailedError,
    handle_api_error,
)
from jacameno.audio_services.errors import AudioError
from jacameno.audio_services.jobs.protocol import JobRefusedError, WorkerCrashedError
from jacameno.audio_services.memory.store import MemoryInputError, MemoryStoreError
from jacameno.collab.errors import (
    CollabError,
    PersistenceError,
    RoomDeletedError,
    UnappliableUpdateError,
)
from jacameno.docs_model import (
    DocsModelError,
    InvalidValueError,
    JobStateError,
    MalformedDocumentError,
    SchemaVersionError,
    UnknownEntityError,
)

log = structlog.get_logger("jacameno.http")

#: Turns a lower package's exception into the API error that answers it.
Translate = Callable[[Exception], ApiError]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def _as(kind: type[ApiError], message: str | None = None) -> Translate:
    """Answer with ``kind``; the exception's own message unless ``message`` is given
    (given where the message could hold internals, such as a database error)."""

    def translate(exc: Exception) -> ApiError:
        return kind(message or str(exc))

    return translate


def _refused_job(exc: Exception) -> ApiError:
    assert isinstance(exc, JobRefusedError)
    details = {"limit": exc.limit} if exc.limit else None
    return RateLimitedError(str(exc), retry_after_s=exc.retry_after_s or 1, details=details)


#: Exception class -> its answer. Roots first, then the subclasses that answer otherwise.
ERROR_TABLE: dict[type[Exception], Translate] = {
    # docs_model: the document cannot be read or changed as asked.
    DocsModelError: _as(ConflictError),
    SchemaVersionError: _as(ConflictError),
    MalformedDocumentError: _as(ConflictError),
    JobStateError: _as(ConflictError),
    UnknownEntityError: _as(NotFoundError),
    InvalidValueError: _as(ValidationFailedError),
    # collab: the live document service.
    CollabError: _as(ServiceUnavailableError, "the collaboration service is unavailable; retry"),
    PersistenceError: _as(ServiceUnavailableError, "the document store is unavailable; retry"),
    RoomDeletedError: _as(NotFoundError, "the project was deleted"),
    UnappliableUpdateError: _as(ConflictError, "the change cannot be applied to the document"),
    # audio_services: the audio (or the parameters for it) cannot be processed.
    AudioError: _as(ValidationFailedError),
    JobRefusedError: _refused_job,
    WorkerCrashedError: _as(ServiceUnavailableError, "an audio worker stopped; retry"),
    MemoryStoreError: _as(ServiceUnavailableError, "the AI memory is unavailable; retry"),
    MemoryInputError: _as(ValidationFailedError),
}


def api_error_for(exc: BaseException) -> ApiError | None:
    """The API error that answers ``exc``: itself for an :class:`ApiError`, its row of
    :data:`ERROR_TABLE` for a lower package's error, None when it is unforeseen."""
    if isinstance(exc, ApiError):
        return exc
    for kind in type(exc).__mro__:
        translate = ERROR_TABLE.get(kind)
        if translate is not None:
            assert isinstance(exc, Exception)
            error = translate(exc)
            error.__cause__ = exc
            return error
    return None


async def handle_mapped_error(request: Request, exc: Exception) -> Response:
    """Starlette handler for every class of :data:`ERROR_TABLE`."""
    error = api_error_for(exc)
    assert error is not None, f"{type(exc).__name__} is registered but not in ERROR_TABLE"
    if error.status >= 500:
        # Retryable for the caller, worth a look for us. The class only: a driver's
        # message may quote a connection URL.
        log.warning(
            "request failed in a lower layer", status=error.status, error=type(exc).__name__
        )
    return await handle_api_error(request, error)


def exception_handlers() -> dict[type[Exception], Handler]:
    """Handlers for :class:`ApiError` and every class of :data:`ERROR_TABLE`."""
    handlers: dict[type[Exception], Handler] = {ApiError: handle_api_error}
    handlers.update(dict.fromkeys(ERROR_TABLE, handle_mapped_error))
    return handlers
