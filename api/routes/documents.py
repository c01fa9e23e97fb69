"""Document reads: ``GET /api/v1/projects/{id}/document``, the JSON view of the live document.

The state comes from the room (``rooms.document``), so it is exactly what connected peers
see once durable, loaded from the update log when no one is connected. `document_state`
and `document_view` are shared with the version routes and GraphQL.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from jacameno.api.auth.permissions import require_project_role
from jacameno.api.auth.principal import Principal
from jacameno.api.db.models import ProjectRole
from jacameno.api.errors import ConflictError, ServiceUnavailableError
from jacameno.api.http import ApiRoute, json_response
from jacameno.api.schemas import DocumentOut, ProblemOut
from jacameno.api.services import AppServices, require_principal, services_of
from jacameno.collab.errors import PersistenceError
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
    """The binary Yjs state of the project's document as the room holds it (503 if the
    document store is down)."""
    try:
        async with services.rooms.document(project_id, origin=API_ORIGIN) as doc:
            return doc.get_update()
    except PersistenceError as exc:
        raise ServiceUnavailableError("the document store is unavailable; retry") from exc


def document_view(project_id: str, state: bytes) -> DocumentOut:
    """The JSON view of a document state and the problems `validate()` finds in it."""
    try:
        doc = load_state(state)
        return DocumentOut(
            project_id=project_id,
            document=to_json(doc),
            problems=[ProblemOut(path=p.path, message=p.message) for p in validate(doc)],
        )
    except DocsModelError as exc:
        raise ConflictError(f"the document cannot be read: {exc}") from exc


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
