"""What one memory is, and the checks on everything callers hand the store.

Ids and texts reach lancedb in two ways: ids inside SQL filter strings, texts as Arrow
values. Ids are therefore held to :data:`ID_PATTERN` (no quote, space or operator can
pass), and every check raises :class:`MemoryInputError` saying what was wrong.

Errors (roots in :mod:`jacameno.audio_services.errors`):

- :class:`MemoryStoreError` (an ``AudioError``): the memory store failed (the backend
  cannot open, read or write the table, or the table holds another model's vectors).
  - :class:`MemoryInputError`: an id, text or argument the store refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from jacameno.audio_services.errors import AudioError

__all__ = [
    "ID_PATTERN",
    "MAX_STYLE_CHARS",
    "MAX_TEXT_CHARS",
    "MemoryInputError",
    "MemoryItem",
    "MemoryKind",
    "MemoryStoreError",
    "Verdict",
    "checked_id",
    "checked_kind",
    "checked_style",
    "checked_text",
    "checked_verdicts",
]

#: User, item and project ids: what every id scheme of the API uses (uuids, slugs).
ID_PATTERN = re.compile(r"[A-Za-z0-9:_.-]{1,128}")
#: Longest text (a lyric line or a verse, a preset name), in characters after stripping.
MAX_TEXT_CHARS = 2000
#: Longest style or preset context, in characters after stripping.
MAX_STYLE_CHARS = 2000


class MemoryStoreError(AudioError):
    """The memory store failed: its backend, or a table written with another model."""


class MemoryInputError(MemoryStoreError):
    """An id, text or argument the memory store refuses (the message says which)."""


class MemoryKind(StrEnum):
    """What a memory holds."""

    LYRICS = "lyrics"
    MIX_PRESET = "mix_preset"
    MASTER_PRESET = "master_preset"


class Verdict(StrEnum):
    """What the writer did with it."""

    WRITTEN = "written"  # typed it themselves
    ACCEPTED = "accepted"  # took a suggestion as it was
    EDITED = "edited"  # took a suggestion and changed it (the text is their version)
    REJECTED = "rejected"  # dismissed a suggestion
    CHOSEN = "chosen"  # picked a preset


#: Presets, whose vector embeds the context they were chosen for.
PRESET_KINDS = frozenset({MemoryKind.MIX_PRESET, MemoryKind.MASTER_PRESET})
#: The verdicts that say what a writer's own style is.
STYLE_VERDICTS = (Verdict.WRITTEN, Verdict.ACCEPTED, Verdict.EDITED)


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One remembered text of one user (its vector stays in the store)."""

    id: str
    user_id: str
    kind: MemoryKind
    text: str
    verdict: Verdict
    project_id: str | None
    #: Free-form style tag, or for presets the context the preset was chosen for.
    style: str | None
    #: When it was remembered, in seconds since the Unix epoch.
    created_at: float

    def as_json(self) -> dict[str, object]:
        """The item as JSON-ready values (enums as their strings)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "kind": str(self.kind),
            "text": self.text,
            "verdict": str(self.verdict),
            "project_id": self.project_id,
            "style": self.style,
            "created_at": self.created_at,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> MemoryItem:
        """The item of one table row (a dict from ``pyarrow.Table.to_pylist``)."""
        return cls(
            id=str(row["id"]),
            user_id=str(row["user_id"]),
            kind=MemoryKind(str(row["kind"])),
            text=str(row["text"]),
            verdict=Verdict(str(row["verdict"])),
            project_id=None if row["project_id"] is None else str(row["project_id"]),
            style=None if row["style"] is None else str(row["style"]),
            created_at=cast(float, row["created_at"]),
        )


def checked_id(field: str, value: object) -> str:
    """``value`` if it is a safe id for a filter string, else :class:`MemoryInputError`."""
    if not isinstance(value, str) or ID_PATTERN.fullmatch(value) is None:
        raise MemoryInputError(
            f"{field} must be 1 to 128 characters among A-Z a-z 0-9 : _ . - (got {value!r})"
        )
    return value


def checked_text(value: object, *, field: str = "text") -> str:
    """``value`` stripped, if it is non-empty and at most :data:`MAX_TEXT_CHARS` long."""
    if not isinstance(value, str) or not value.strip():
        raise MemoryInputError(f"{field} must be a non-empty string (got {value!r:.40})")
    text = value.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise MemoryInputError(
            f"{field} is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}"
        )
    return text


def checked_style(value: object) -> str | None:
    """``value`` stripped, or ``None`` for ``None`` or blank; at most :data:`MAX_STYLE_CHARS`."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MemoryInputError(f"style must be a string or None (got {value!r:.40})")
    style = value.strip()
    if len(style) > MAX_STYLE_CHARS:
        raise MemoryInputError(
            f"style is {len(style)} characters long; the limit is {MAX_STYLE_CHARS}"
        )
    return style or None


def checked_kind(value: object) -> MemoryKind:
    """``value`` as a :class:`MemoryKind` (its member or its string)."""
    try:
        return MemoryKind(value if isinstance(value, str) else "")
    except ValueError:
        known = ", ".join(kind.value for kind in MemoryKind)
        raise MemoryInputError(f"kind must be one of {known} (got {value!r})") from None


def checked_verdicts(values: Iterable[object]) -> tuple[Verdict, ...]:
    """``values`` as a non-empty tuple of :class:`Verdict` (members or their strings)."""
    verdicts: list[Verdict] = []
    for value in values:
        try:
            verdicts.append(Verdict(value if isinstance(value, str) else ""))
        except ValueError:
            known = ", ".join(verdict.value for verdict in Verdict)
            raise MemoryInputError(f"verdict must be one of {known} (got {value!r})") from None
    if not verdicts:
        raise MemoryInputError("verdicts must name at least one Verdict")
    return tuple(dict.fromkeys(verdicts))
