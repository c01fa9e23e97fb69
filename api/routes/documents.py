"""Document reads: ``GET /api/v1/projects/{id}/document``, the JSON view of the live document.

The state comes from the room (``rooms.document``), so it is exactly what connected peers
see once durable, loaded from the update log when no one is connected. `document_state`
and `document_view` are shared with the version routes and GraphQL.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import require_project_role
from jacameno.api.auth.principal import Principal
from jacameno.api.db.models import ProjectRole
from jacameno.api.document_schemas import DocumentOut, ProblemOut
from jacameno.api.errors import ConflictError
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.services import AppServices, require_principal, services_of
from jacameno.docs_model import DocsModelError, load_state, to_json, validate

#: Transaction origin of reads and writes the API makes in rooms.
API_ORIGIN = "service:api"


async def require_role(
    services: AppServices, request: Request, project_id: str, required: ProjectRole
) -> Principal:
    """Authenticate the caller and check its role in the project (401/403/404)."""
    async with services.database.session() as session:
        principal = await require_principal(request, session)
        await require_project_role(session, principal, project_id, required)
    return principal


async def document_state(services: AppServices, project_id: str) -> bytes:
    """The binary Yjs state of the project's document as the room holds it (``collab``'s
    PersistenceError, 503 in :mod:`api.error_table`, if the document store is down)."""
    async with services.rooms.document(project_id, origin=API_ORIGIN) as doc:
        return doc.get_update()


def stored_document(state: bytes) -> Doc[Any]:
    """A document from state we stored (the live document, a version).

    ``load_state`` calls unreadable bytes an ``InvalidValueError``, which the error
    table answers 422 (the caller's bad input); these bytes are ours, so the answer
    is 409: the stored document cannot be read as it is.
    """
    try:
        return load_state(state)
    except DocsModelError as exc:
        raise ConflictError(f"the stored document cannot be read: {exc}") from exc


def document_view(project_id: str, state: bytes) -> DocumentOut:
    """The JSON view of a stored document state and the problems `validate()` finds in it
    (409 when it cannot be read)."""
    doc = stored_document(state)
    return DocumentOut(
        project_id=project_id,
        document=to_json(doc),
        problems=[ProblemOut(path=p.path, message=p.message) for p in validate(doc)],
    )


async def get_document(request: Request) -> Response:
    services = services_of(request)
    project_id = request.path_params["project_id"]
    await require_role(services, request, project_id, ProjectRole.VIEWER)
    return json_response(document_view(project_id, await document_state(services, project_id)))


def plain(model: DocumentOut) -> dict[str, Any]:
    """A document view as plain JSON (for GraphQL)."""
    return model.model_dump(mode="json")


routes = [
    ApiRoute(
        "/api/v1/projects/{project_id}/document",
        get_document,
        method="GET",
        summary="The project's live document as JSON, with any shape problems (members)",
        tag="documents",
        response=DocumentOut,
        errors=(401, 403, 404, 409, 503),
    ),
]
