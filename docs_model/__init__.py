"""The typed schema of a JACAMENO project document over pycrdt.

Pure (no I/O) and importing only pycrdt and the standard library. Start with
`create_document()` or ``ProjectDocument(doc)``; `migrate()` brings older documents to
`CURRENT_SCHEMA_VERSION`, `validate()` reports wrong shapes peers wrote, `to_json()`
gives the whole document as plain JSON; `restore_to()` brings a named version back as a
forward edit and `diff_summary()` says what differs between two states.
"""

from .base import Clock, Origin, new_doc, new_id
from .coaching import NoteSpec
from .document import ProjectDocument, create_document
from .errors import (
    DocsModelError,
    InvalidValueError,
    JobStateError,
    MalformedDocumentError,
    OrderKeyError,
    SchemaTooNewError,
    SchemaVersionError,
    UnknownClipError,
    UnknownCommentError,
    UnknownEntityError,
    UnknownJobError,
    UnknownTrackError,
)
from .fields import UNSET, Unset
from .json_view import to_json
from .migrations import MIGRATIONS, Migration, migrate, schema_version
from .observing import changed_ids, event_origin
from .ordering import (
    generate_key_between,
    generate_n_keys_between,
    is_valid_order_key,
    order_sort_key,
    validate_order_key,
)
from .restore import RESTORED_MAP_ROOTS, diff_summary, load_state, restore_to
from .roots import Roots, get_roots
from .schema import (
    CURRENT_SCHEMA_VERSION,
    AutomationCurve,
    AutomationPointView,
    ClipView,
    CoachingNoteView,
    CoachingView,
    CommentView,
    EffectView,
    FadeCurve,
    JobKind,
    JobStatus,
    JobView,
    JSONValue,
    MetaView,
    MidiClipView,
    MixView,
    NoteView,
    Problem,
    TrackKind,
    TrackView,
)
from .tracks import EffectSpec
from .validation import validate

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "MIGRATIONS",
    "RESTORED_MAP_ROOTS",
    "UNSET",
    "AutomationCurve",
    "AutomationPointView",
    "ClipView",
    "Clock",
    "CoachingNoteView",
    "CoachingView",
    "CommentView",
    "DocsModelError",
    "EffectSpec",
    "EffectView",
    "FadeCurve",
    "InvalidValueError",
    "JSONValue",
    "JobKind",
    "JobStateError",
    "JobStatus",
    "JobView",
    "MalformedDocumentError",
    "MetaView",
    "MidiClipView",
    "Migration",
    "MixView",
    "NoteSpec",
    "NoteView",
    "OrderKeyError",
    "Origin",
    "Problem",
    "ProjectDocument",
    "Roots",
    "SchemaTooNewError",
    "SchemaVersionError",
    "TrackKind",
    "TrackView",
    "UnknownClipError",
    "UnknownCommentError",
    "UnknownEntityError",
    "UnknownJobError",
    "UnknownTrackError",
    "Unset",
    "changed_ids",
    "create_document",
    "diff_summary",
    "event_origin",
    "generate_key_between",
    "generate_n_keys_between",
    "get_roots",
    "is_valid_order_key",
    "load_state",
    "migrate",
    "new_doc",
    "new_id",
    "order_sort_key",
    "restore_to",
    "schema_version",
    "to_json",
    "validate",
    "validate_order_key",
]
