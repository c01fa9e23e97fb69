"""Request and response bodies of named versions and document views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jacameno.api.schemas import Body, Name, Out, Query

# ---------------------------------------------------------------------------- versions, documents


class VersionIn(Body):
    name: Name


class VersionOut(Out):
    id: str
    name: str
    #: Who named it: ``user:<id>`` or ``apikey:<id>``.
    created_by: str | None
    created_at: datetime


class VersionPage(Out):
    items: list[VersionOut]
    total: int
    limit: int
    offset: int


class VersionQuery(Query):
    #: Also answer the version's content (the JSON view of its document).
    document: bool = False


class VersionDetail(VersionOut):
    #: What changed from this version to the current document (``docs_model.diff_summary``).
    changes: dict[str, Any]
    document: dict[str, Any] | None = None


class RestoreOut(Out):
    version: VersionOut
    #: What the restore changed in the document (``docs_model.diff_summary``).
    changes: dict[str, Any]
    #: A version named automatically with the state just before the restore (to undo it).
    backup_version_id: str | None


class ProblemOut(Out):
    path: str
    message: str


class DocumentOut(Out):
    project_id: str
    #: ``docs_model.to_json`` of the current document.
    document: dict[str, Any]
    #: Wrong shapes peers wrote (``docs_model.validate``); reads skip or repair them.
    problems: list[ProblemOut]
