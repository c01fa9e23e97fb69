"""Restoring a named version as a forward edit, and a compact diff between two states.

`restore_to(doc, version_state)` makes the live document look like the version by
editing it in one transaction: Map keys are set or deleted (recursing into nested Maps
and leaving equal entries untouched), the lyrics get a minimal span edit, Arrays are
spliced where they differ. Peers receive it as an ordinary update, and edits they make
concurrently (or offline) merge on top. The document is never rebuilt from JSON or with
fresh client ids: that would duplicate content on every peer still holding the history.

`jobs` is not restored: it is the record of work requested and running, and rewinding
it would orphan jobs a runner is executing. Roots outside the schema are left alone.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

from .base import DocumentBase, Origin, new_doc, roots_of
from .document import ProjectDocument
from .errors import InvalidValueError
from .json_view import to_json
from .migrations import migrate, schema_version
from .roots import Roots
from .schema import COACHING, LYRICS_META, META, MIX, TRACKS, JSONValue

__all__ = ["RESTORED_MAP_ROOTS", "diff_summary", "load_state", "restore_to"]

#: Map roots a restore rewinds (`jobs` is operational history and is kept as it is).
RESTORED_MAP_ROOTS = (META, TRACKS, LYRICS_META, MIX, COACHING)


def load_state(state: bytes) -> Doc[Any]:
    """A new `Doc` holding the binary Yjs state `state` (a version, a snapshot)."""
    doc: Doc[Any] = new_doc()
    try:
        doc.apply_update(state)
    except (ValueError, RuntimeError) as exc:
        raise InvalidValueError(f"not a Yjs document state: {exc}") from None
    return doc


def restore_to(
    doc: Doc[Any] | DocumentBase, version_state: bytes, *, origin: Origin = None
) -> bool:
    """Edit `doc` forward, in one transaction with `origin`, until it matches the version.

    Returns whether anything was written. Raises `InvalidValueError` for bytes that are
    not a Yjs state and `SchemaTooNewError` for a version newer code wrote, both before
    writing anything.
    """
    version = ProjectDocument(load_state(version_state))
    schema_version(version)  # refuses a version from newer code before any write
    target = doc if isinstance(doc, ProjectDocument) else ProjectDocument(roots_of(doc).doc)
    source, roots = version.roots, target.roots
    # The whole encoded state, not the state vector: a restore that only deletes
    # (a shorter lyric, a removed comment) leaves the state vector unchanged.
    before = roots.doc.get_update()
    with roots.doc.transaction(origin=origin):
        for name in RESTORED_MAP_ROOTS:
            _sync_map(getattr(roots, name), getattr(source, name))
        _sync_lyrics(target, str(source.lyrics), origin)
        _sync_array(roots.comments, _items(source.comments, source))
        migrate(target, origin=origin)
    return roots.doc.get_update() != before


def diff_summary(
    old: Doc[Any] | DocumentBase, new: Doc[Any] | DocumentBase
) -> dict[str, JSONValue]:
    """What changed from `old` to `new`, compactly: ``identical``, ``meta`` (field ->
    ``[old, new]``), ``tracks`` (``added``/``removed`` ids, ``changed`` id -> field names),
    ``lyrics`` (characters removed and inserted in the changed span), ``lyrics_meta`` and
    ``mix`` (changed keys), ``coaching`` (track ids), ``comments`` (added/removed counts)."""
    before, after = to_json(old), to_json(new)
    summary: dict[str, JSONValue] = {}
    meta = _changed_fields(before["meta"], after["meta"])
    if meta:
        summary["meta"] = {
            key: [_get(before["meta"], key), _get(after["meta"], key)] for key in meta
        }
    tracks = _keyed_diff(_by_id(before["tracks"]), _by_id(after["tracks"]), detail=True)
    if tracks:
        summary["tracks"] = tracks
    lyrics = _text_diff(str(before["lyrics"]), str(after["lyrics"]))
    if lyrics:
        summary["lyrics"] = lyrics
    for name in ("lyrics_meta", "mix"):
        keys = _changed_fields(before[name], after[name])
        if keys:
            summary[name] = _json_list(keys)
    coaching = _keyed_diff(_as_dict(before["coaching"]), _as_dict(after["coaching"]), detail=False)
    if coaching:
        summary["coaching"] = coaching
    comments = _keyed_diff(_by_id(before["comments"]), _by_id(after["comments"]), detail=False)
    if comments:
        summary["comments"] = {
            "added": len(_as_list(comments.get("added"))),
            "removed": len(_as_list(comments.get("removed"))),
            "changed": len(_as_list(comments.get("changed"))),
        }
    return {"identical": not summary, **summary}


# ---------------------------------------------------------------------------- restore


def _sync_map(target: Map[Any], source: Map[Any]) -> None:
    wanted = dict(source.items())
    for key in [key for key in target.keys() if key not in wanted]:  # noqa: SIM118
        del target[key]
    for key, value in wanted.items():
        current = target.get(key) if key in target else _ABSENT
        if isinstance(value, Map) and isinstance(current, Map):
            _sync_map(current, value)
        elif isinstance(value, Array) and isinstance(current, Array):
            _sync_array(current, list(value))
        elif current is _ABSENT or _snapshot(current) != _snapshot(value):
            target[key] = _prelim(value)


def _sync_array(target: Array[Any], wanted: list[Any]) -> None:
    """Splice `target` to `wanted`: keep the equal head and tail, replace the middle."""
    current = list(target)
    have, want = [_snapshot(v) for v in current], [_snapshot(v) for v in wanted]
    head = 0
    while head < min(len(have), len(want)) and have[head] == want[head]:
        head += 1
    tail = 0
    while tail < min(len(have), len(want)) - head and have[-1 - tail] == want[-1 - tail]:
        tail += 1
    if len(have) - tail > head:
        del target[head : len(have) - tail]
    for offset, value in enumerate(wanted[head : len(want) - tail]):
        target.insert(head + offset, _prelim(value))


def _sync_lyrics(target: ProjectDocument, text: str, origin: Origin) -> None:
    lyrics = target.roots.lyrics
    current = str(lyrics)
    if len(lyrics) == len(current.encode("utf-8")):
        target.set_lyrics_text(text, origin=origin)  # edits only the differing span
    else:
        # The Text holds embeds a peer wrote (no character positions): replace it all.
        del lyrics[0 : len(lyrics)]
        lyrics.insert(0, text)


def _items(array: Array[Any], roots: Roots) -> list[Any]:
    return [] if roots.comments_hold_text() else list(array)


class _Absent:
    pass


_ABSENT = _Absent()


def _snapshot(value: object) -> object:
    """A comparable, type-tagged plain copy (a Text never equals a str with its content)."""
    if isinstance(value, Map):
        return ("map", {key: _snapshot(item) for key, item in value.items()})
    if isinstance(value, Array):
        return ("array", [_snapshot(item) for item in value])
    if isinstance(value, Text):
        return ("text", str(value))
    if isinstance(value, dict):
        return ("dict", {key: _snapshot(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return ("list", [_snapshot(item) for item in value])
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)  # Yjs numbers are floats; JS peers may send integers
    return ("other", repr(value))


def _prelim(value: object) -> object:
    """A value of the version document as a new, unintegrated value for the live one."""
    if isinstance(value, Map):
        return Map({key: _prelim(item) for key, item in value.items()})
    if isinstance(value, Array):
        return Array([_prelim(item) for item in value])
    if isinstance(value, Text):
        return Text(str(value))
    return value


# ---------------------------------------------------------------------------- diff


def _as_dict(value: JSONValue) -> dict[str, JSONValue]:
    return value if isinstance(value, dict) else {}


def _as_list(value: JSONValue | None) -> list[JSONValue]:
    return value if isinstance(value, list) else []


def _get(value: JSONValue, key: str) -> JSONValue:
    return _as_dict(value).get(key)


def _by_id(records: JSONValue) -> dict[str, JSONValue]:
    keyed: dict[str, JSONValue] = {}
    for index, record in enumerate(_as_list(records)):
        record_id = _get(record, "id")
        keyed[record_id if isinstance(record_id, str) else f"#{index}"] = record
    return keyed


def _changed_fields(old: JSONValue, new: JSONValue) -> list[str]:
    before, after = _as_dict(old), _as_dict(new)
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def _json_list(items: list[str]) -> list[JSONValue]:
    plain: list[JSONValue] = [item for item in items]
    return plain


def _keyed_diff(
    old: dict[str, JSONValue], new: dict[str, JSONValue], *, detail: bool
) -> dict[str, JSONValue]:
    diff: dict[str, JSONValue] = {}
    added = _json_list(sorted(new.keys() - old.keys()))
    removed = _json_list(sorted(old.keys() - new.keys()))
    common = sorted(old.keys() & new.keys())
    if added:
        diff["added"] = added
    if removed:
        diff["removed"] = removed
    if detail:
        changed: dict[str, JSONValue] = {
            key: _json_list(_changed_fields(old[key], new[key]))
            for key in common
            if old[key] != new[key]
        }
        if changed:
            diff["changed"] = changed
    else:
        changed_ids = _json_list([key for key in common if old[key] != new[key]])
        if changed_ids:
            diff["changed"] = changed_ids
    return diff


def _text_diff(old: str, new: str) -> dict[str, JSONValue]:
    if old == new:
        return {}
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    return {
        "chars_removed": len(old) - prefix - suffix,
        "chars_inserted": len(new) - prefix - suffix,
        "old_length": len(old),
        "new_length": len(new),
    }
