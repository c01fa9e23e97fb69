"""The exceptions of `docs_model`.

Everything raised on purpose by this package derives from `DocsModelError`::

    DocsModelError
    ├── SchemaVersionError       the document's schema_version is unreadable
    │   └── SchemaTooNewError    ... or newer than this code knows: upgrade the server
    ├── UnknownEntityError       an id names nothing in the document (also a LookupError)
    │   ├── UnknownTrackError
    │   ├── UnknownClipError
    │   ├── UnknownJobError
    │   └── UnknownCommentError
    ├── InvalidValueError        an argument is out of range or of the wrong type
    │   └── OrderKeyError        a fractional-index key is malformed or out of order
    ├── JobStateError            a job status change that the life cycle forbids
    └── MalformedDocumentError   a write found a wrong shape a peer wrote; see `validate()`

`InvalidValueError` is also a `ValueError`, and `UnknownEntityError` a `LookupError`, so
callers that only know the builtins still catch them.
"""

from __future__ import annotations

__all__ = [
    "DocsModelError",
    "InvalidValueError",
    "JobStateError",
    "MalformedDocumentError",
    "OrderKeyError",
    "SchemaTooNewError",
    "SchemaVersionError",
    "UnknownClipError",
    "UnknownCommentError",
    "UnknownEntityError",
    "UnknownJobError",
    "UnknownTrackError",
]


class DocsModelError(Exception):
    """Root of every error raised on purpose by `docs_model`."""


class SchemaVersionError(DocsModelError):
    """`meta.schema_version` is not a non-negative integer."""


class SchemaTooNewError(SchemaVersionError):
    """The document was written by newer code than this one; it must not be downgraded."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"document schema_version {found} is newer than the {supported} this code "
            "supports; upgrade the server (or client) before opening this project"
        )
        self.found = found
        self.supported = supported


class UnknownEntityError(DocsModelError, LookupError):
    """An id names no entry of the document."""

    kind = "entry"

    def __init__(self, entity_id: str) -> None:
        super().__init__(f"no {self.kind} with id {entity_id!r} in this document")
        self.entity_id = entity_id


class UnknownTrackError(UnknownEntityError):
    """No track with that id."""

    kind = "track"


class UnknownClipError(UnknownEntityError):
    """No clip with that id on that track."""

    kind = "clip"


class UnknownJobError(UnknownEntityError):
    """No job with that id."""

    kind = "job"


class UnknownCommentError(UnknownEntityError):
    """No comment with that id."""

    kind = "comment"


class UnknownNoteError(UnknownEntityError):
    """No note with that id in that MIDI clip."""

    kind = "note"


class UnknownSuggestionError(UnknownEntityError):
    """No lyrics suggestion with that id."""

    kind = "lyrics suggestion"


class InvalidValueError(DocsModelError, ValueError):
    """An argument is out of range or of the wrong type; the message says which and why."""


class OrderKeyError(InvalidValueError):
    """A fractional-index order key is malformed, or the bounds are not in order."""


class JobStateError(DocsModelError):
    """The job's current status does not allow that change (e.g. finishing a failed job)."""


class MalformedDocumentError(DocsModelError):
    """A write met a shape that a peer wrote wrongly (e.g. a track that is not a Map).

    Reads repair such shapes in their views and `validate()` reports them; writes refuse,
    because writing over them could discard a peer's content.
    """
