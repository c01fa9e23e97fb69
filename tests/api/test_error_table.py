"""One error boundary: every known error answers its status and code in the JSON envelope,
with the request id, through REST, GraphQL and the collaboration socket alike.

Before, each route translated the lower packages' errors its own way, and a route that
forgot answered a bare 500; close codes were decided in two places.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jacameno.api.app import create_app
from jacameno.api.db import Database
from jacameno.api.db.models import Version
from jacameno.api.error_table import ERROR_TABLE, api_error_for
from jacameno.api.errors import ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError
from jacameno.api.errors import ServiceUnavailableError as ApiServiceUnavailable
from jacameno.api.settings import Settings
from jacameno.api.storage import InvalidKeyError, ObjectNotFoundError, StorageUnavailableError
from jacameno.audio_services.errors import (
    AudioDecodeError,
    AudioError,
    AudioLimitError,
    InvalidEffectChainError,
)
from jacameno.audio_services.jobs.protocol import JobRefusedError, WorkerCrashedError
from jacameno.audio_services.memory.store import MemoryInputError, MemoryStoreError
from jacameno.collab.channel import CloseCode
from jacameno.collab.close_codes import close_code_for, close_for
from jacameno.collab.errors import (
    CollabError,
    FloodError,
    MissingDependenciesError,
    PersistenceError,
    ProtocolError,
    RoomDeletedError,
    UnappliableUpdateError,
)
from jacameno.docs_model import (
    DocsModelError,
    InvalidValueError,
    JobStateError,
    MalformedDocumentError,
    OrderKeyError,
    SchemaTooNewError,
    SchemaVersionError,
    UnknownClipError,
    UnknownEntityError,
    UnknownTrackError,
)
from tests.api.test_graphql import error_codes, gql

#: A database URL in a driver's message: it must never reach the caller.
SECRET_URL = "postgresql://jacameno:hunter2@db.internal/jacameno"

#: name -> (exception raised in a route, HTTP status, error code)
CASES: dict[str, tuple[Exception, int, str]] = {
    # docs_model
    "docs model root": (DocsModelError("cannot do that to this document"), 409, "conflict"),
    "unknown track": (UnknownTrackError("t1"), 404, "not_found"),
    "unknown clip": (UnknownClipError("c1"), 404, "not_found"),
    "unknown entity": (UnknownEntityError("x1"), 404, "not_found"),
    "invalid value": (InvalidValueError("bpm must be above 0"), 422, "validation_failed"),
    "order key": (OrderKeyError("bounds out of order"), 422, "validation_failed"),
    "schema version": (SchemaVersionError("unreadable schema_version"), 409, "conflict"),
    "schema too new": (SchemaTooNewError(9, 1), 409, "conflict"),
    "job state": (JobStateError("a failed job cannot finish"), 409, "conflict"),
    "malformed document": (MalformedDocumentError("track t1 is not a Map"), 409, "conflict"),
    # collab
    "collab root": (CollabError(SECRET_URL), 503, "service_unavailable"),
    "persistence": (PersistenceError(SECRET_URL), 503, "service_unavailable"),
    "room deleted": (RoomDeletedError("p1"), 404, "not_found"),
    "unappliable update": (UnappliableUpdateError(SECRET_URL), 409, "conflict"),
    "missing dependencies": (MissingDependenciesError(SECRET_URL), 409, "conflict"),
    "protocol (collab root)": (ProtocolError(SECRET_URL), 503, "service_unavailable"),
    "flood (collab root)": (FloodError(SECRET_URL), 503, "service_unavailable"),
    # audio_services
    "audio root": (AudioError("cannot process this"), 422, "validation_failed"),
    "audio decode": (AudioDecodeError("not audio"), 422, "validation_failed"),
    "audio limit": (AudioLimitError("longer than 600 s"), 422, "validation_failed"),
    "effect chain": (InvalidEffectChainError("no plugin 'fuzz'"), 422, "validation_failed"),
    "job refused": (JobRefusedError("too many jobs", retry_after_s=7), 429, "rate_limited"),
    "worker crashed": (WorkerCrashedError(SECRET_URL), 503, "service_unavailable"),
    "memory store": (MemoryStoreError(SECRET_URL), 503, "service_unavailable"),
    "memory input": (MemoryInputError("user_id is not an id"), 422, "validation_failed"),
    # storage (ApiErrors of their own)
    "object not found": (ObjectNotFoundError("no object"), 404, "not_found"),
    "invalid key": (InvalidKeyError("bad key"), 400, "bad_request"),
    "storage unavailable": (StorageUnavailableError("S3 is down"), 503, "service_unavailable"),
    # anything else
    "unforeseen": (RuntimeError(SECRET_URL), 500, "internal"),
    "unforeseen lookup": (KeyError("id"), 500, "internal"),
}


@pytest.fixture
async def raising_app(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    """``create_app`` with one more route that raises ``CASES[name]`` (no lifespan needed:
    the route uses no services)."""

    async def raise_case(request: Request) -> Response:
        raise CASES[request.path_params["name"]][0]

    app = create_app(make_settings())
    app.router.routes.insert(0, Route("/raise/{name}", raise_case))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def test_every_row_of_the_table_is_exercised() -> None:
    raised = {type(exc) for exc, _status, _code in CASES.values()}
    assert set(ERROR_TABLE) - raised == set()


@pytest.mark.parametrize("name", list(CASES))
async def test_each_error_answers_its_status_in_the_envelope(
    raising_app: httpx.AsyncClient, name: str
) -> None:
    _exc, status, code = CASES[name]
    answer = await raising_app.get(f"/raise/{name}", headers={"x-request-id": f"case-{status}"})
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "hunter2" not in answer.text
    assert answer.headers["x-request-id"] == f"case-{status}"
    if status == 429:
        assert answer.headers["retry-after"] == "7"
    if status == 500:
        assert body["error"]["message"] == "internal server error"
        assert body["error"]["details"] == {"request_id": f"case-{status}"}


async def test_an_unforeseen_error_gets_a_request_id_when_none_is_sent(
    raising_app: httpx.AsyncClient,
) -> None:
    answer = await raising_app.get("/raise/unforeseen")
    assert answer.status_code == 500
    assert len(answer.headers["x-request-id"]) == 32
    assert answer.json()["error"]["details"] == {"request_id": answer.headers["x-request-id"]}


def test_messages_of_domain_errors_reach_the_caller() -> None:
    missing = api_error_for(UnknownTrackError("t1"))
    assert missing is not None
    assert missing.message == "no track with id 't1' in this document"
    assert isinstance(missing.__cause__, UnknownTrackError)
    assert api_error_for(ValueError("not ours")) is None


# --------------------------------------------------------------------------- real routes


async def test_a_stored_version_that_cannot_be_read_is_a_conflict(
    start_api: Callable[..., Any],
) -> None:
    """The versions routes no longer translate errors; REST and GraphQL still answer 409."""
    async with start_api(rate_limits_enabled=False) as (server, api):
        owner = await api.signup()
        project_id = await api.create_project(owner)
        base = f"/api/v1/projects/{project_id}/versions"
        named = await api.call("POST", base, owner.access_token, json={"name": "Take 1"})
        assert named.status_code == 201, named.text
        version_id = named.json()["id"]
        database = Database(server.settings.database_url)
        try:
            async with database.session() as session:
                await session.execute(
                    update(Version).where(Version.id == version_id).values(state=b"\xff\x00junk")
                )
        finally:
            await database.aclose()

        read = await api.call("GET", f"{base}/{version_id}", owner.access_token)
        assert read.status_code == 409, read.text
        assert read.json()["error"]["code"] == "conflict"
        restored = await api.call("POST", f"{base}/{version_id}/restore", owner.access_token)
        assert restored.status_code == 409, restored.text
        via_graphql = await gql(
            api,
            "mutation($p: ID!, $v: ID!) { restoreVersion(projectId: $p, versionId: $v)"
            " { backupVersionId } }",
            owner.access_token,
            p=project_id,
            v=version_id,
        )
        assert error_codes(via_graphql) == ["conflict"]
        assert via_graphql["errors"][0]["extensions"]["status"] == 409
        # Nothing was written: the document still reads.
        document = await api.call(
            "GET", f"/api/v1/projects/{project_id}/document", owner.access_token
        )
        assert document.status_code == 200


# --------------------------------------------------------------------------- WebSocket


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RoomDeletedError("p1"), CloseCode.NOT_FOUND),
        (PersistenceError(SECRET_URL), CloseCode.UNAVAILABLE),
        (MissingDependenciesError("needs more"), CloseCode.RESYNC),
        (UnappliableUpdateError("cannot apply"), CloseCode.MALFORMED),
        (ProtocolError("truncated"), CloseCode.MALFORMED),
        (FloodError("presence over budget"), CloseCode.RATE_LIMITED),
        (UnauthorizedError("token expired"), CloseCode.UNAUTHORIZED),
        (ForbiddenError("not a member"), CloseCode.FORBIDDEN),
        (NotFoundError("no such project"), CloseCode.NOT_FOUND),
        (RateLimitedError("slow down", retry_after_s=3), CloseCode.RATE_LIMITED),
        (ApiServiceUnavailable("later"), CloseCode.UNAVAILABLE),
        (RuntimeError(SECRET_URL), CloseCode.INTERNAL_ERROR),
    ],
)
def test_one_table_gives_the_close_code(error: Exception, code: CloseCode) -> None:
    close = close_for(error)
    assert close.code == code == close_code_for(error)
    assert "hunter2" not in close.reason
    assert 0 < len(close.reason.encode()) <= 123


def test_a_close_reason_fits_in_a_close_frame() -> None:
    close = close_for(ProtocolError("x" * 500))
    assert close.reason == "x" * 120
