"""Lyrics: a collaborative Text, and free-form `lyrics_meta` (sections, rhyme scheme,
suggestions).

Two keys of `lyrics_meta` are written by the lyrics service: `analysis` (one JSON
value, replaced as people type) and `suggestions`, a nested Map keyed by suggestion
id, so suggestions written at once by two server processes both survive. Readers
skip entries that lack an id or lines: any peer may write junk there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pycrdt import Map, Subscription

from .base import DocumentBase, Origin
from .errors import InvalidValueError, MalformedDocumentError, UnknownSuggestionError
from .fields import entries, plain_json, to_stored
from .observing import event_origin
from .schema import JSONValue

__all__ = ["ANALYSIS", "MAX_SUGGESTIONS", "SUGGESTIONS", "LyricsMixin"]

#: `lyrics_meta` keys the lyrics service writes.
ANALYSIS = "analysis"
SUGGESTIONS = "suggestions"
#: Suggestions kept in the document; the oldest go first.
MAX_SUGGESTIONS = 20
VERDICTS = frozenset({"accepted", "edited", "rejected"})


def _suggestion(value: object) -> dict[str, JSONValue] | None:
    """A readable suggestion entry (an id and a list of string lines), else None."""
    entry = plain_json(value)
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return None
    lines = entry.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        return None
    return entry


def _created_at(entry: Mapping[str, JSONValue]) -> float:
    created = entry.get("created_at")
    return float(created) if isinstance(created, int | float) else 0.0


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidValueError(f"{what} is not valid Unicode text: {exc.reason}") from None


class LyricsMixin(DocumentBase):
    def lyrics_text(self) -> str:
        """The lyrics as plain text."""
        return str(self._roots.lyrics)

    def set_lyrics_text(self, text: str, *, origin: Origin = None) -> None:
        """Make the lyrics `text` by editing only the span that differs, so a concurrent
        edit elsewhere in the lyrics survives (replacing it all would duplicate text)."""
        if not isinstance(text, str):
            raise InvalidValueError(f"text must be a string, got {type(text).__name__}")
        _utf8(text, "text")
        with self._transaction(origin):
            old = self.lyrics_text()
            prefix = 0
            limit = min(len(old), len(text))
            while prefix < limit and old[prefix] == text[prefix]:
                prefix += 1
            suffix = 0
            while suffix < limit - prefix and old[-1 - suffix] == text[-1 - suffix]:
                suffix += 1
            self._edit(old, prefix, len(old) - prefix - suffix, text[prefix : len(text) - suffix])

    def edit_lyrics(
        self, index: int, delete_count: int, insert_text: str = "", *, origin: Origin = None
    ) -> None:
        """Delete `delete_count` characters at `index` and insert `insert_text` there;
        positions count Python characters (code points)."""
        _utf8(insert_text, "insert_text")
        with self._transaction(origin):
            old = self.lyrics_text()
            if not (0 <= index <= len(old) and 0 <= delete_count <= len(old) - index):
                raise InvalidValueError(
                    f"cannot delete {delete_count} characters at {index} of {len(old)}"
                )
            self._edit(old, index, delete_count, insert_text)

    def _edit(self, old: str, index: int, delete_count: int, insert_text: str) -> None:
        lyrics = self._roots.lyrics
        # pycrdt indexes Text by UTF-8 byte, and an index inside a character corrupts the
        # update it sends; so convert from characters, and refuse when the Text holds
        # embeds (its byte length then differs from its string's).
        if len(lyrics) != len(old.encode("utf-8")):
            raise MalformedDocumentError("lyrics holds non-text content; see validate()")
        start = len(old[:index].encode("utf-8"))
        if delete_count:
            stop = start + len(old[index : index + delete_count].encode("utf-8"))
            del lyrics[start:stop]
        if insert_text:
            lyrics.insert(start, insert_text)

    def lyrics_meta(self) -> dict[str, JSONValue]:
        """`lyrics_meta` as plain JSON."""
        with self._transaction(None):
            return {
                key: plain_json(value)
                for key, value in (entries(self._roots.lyrics_meta) or {}).items()
            }

    def update_lyrics_meta(self, values: Mapping[str, object], *, origin: Origin = None) -> None:
        """Set the given `lyrics_meta` keys to JSON values (None stores null)."""
        stored = to_stored(values, "lyrics_meta")
        if not isinstance(stored, dict):
            raise InvalidValueError("lyrics_meta values must be a mapping")
        with self._transaction(origin):
            for key, value in stored.items():
                self._roots.lyrics_meta[key] = value

    def lyrics_suggestions(self) -> list[dict[str, JSONValue]]:
        """The readable suggestions in `lyrics_meta.suggestions`, newest first."""
        with self._transaction(None):
            raw = entries(self._roots.lyrics_meta.get(SUGGESTIONS)) or {}
            found = [entry for value in raw.values() if (entry := _suggestion(value))]
        found.sort(key=lambda entry: (-_created_at(entry), str(entry["id"])))
        return found

    def add_lyrics_suggestion(
        self, entry: Mapping[str, object], *, keep: int = MAX_SUGGESTIONS, origin: Origin = None
    ) -> None:
        """Add a suggestion (a JSON object with an ``id``, ``lines`` and ``created_at``)
        and drop the oldest beyond `keep`."""
        stored = to_stored(entry, "suggestion")
        if not isinstance(stored, dict) or _suggestion(stored) is None:
            raise InvalidValueError("a suggestion needs a string id and a list of string lines")
        with self._transaction(origin):
            meta = self._roots.lyrics_meta
            container = meta.get(SUGGESTIONS)
            if not isinstance(container, Map):
                # Absent, or junk a peer wrote: start the Map afresh.
                meta[SUGGESTIONS] = container = Map()
            container[str(stored["id"])] = stored
            ranked = sorted(
                (
                    (_created_at(e) if (e := _suggestion(v)) else -1.0, key)
                    for key, v in container.items()
                ),
                reverse=True,
            )
            for _, key in ranked[keep:]:
                del container[key]

    def set_suggestion_verdict(
        self, suggestion_id: str, verdict: str, *, origin: Origin = None
    ) -> dict[str, JSONValue]:
        """Record what the writer did with a suggestion (accepted, edited, rejected);
        returns the updated entry. Raises `UnknownSuggestionError` when it is gone."""
        if verdict not in VERDICTS:
            raise InvalidValueError(f"verdict must be one of {sorted(VERDICTS)}, got {verdict!r}")
        with self._transaction(origin):
            container = self._roots.lyrics_meta.get(SUGGESTIONS)
            current = (
                _suggestion(container.get(suggestion_id)) if isinstance(container, Map) else None
            )
            if current is None or not isinstance(container, Map):
                raise UnknownSuggestionError(suggestion_id)
            updated = {**current, "verdict": verdict}
            container[suggestion_id] = updated
        return updated

    def lyrics_analysis(self) -> dict[str, JSONValue] | None:
        """The analysis the lyrics service last wrote, or None."""
        with self._transaction(None):
            value = plain_json(self._roots.lyrics_meta.get(ANALYSIS))
        return value if isinstance(value, dict) else None

    def set_lyrics_analysis(self, analysis: Mapping[str, object], *, origin: Origin = None) -> None:
        """Replace `lyrics_meta.analysis` with a JSON object."""
        self.update_lyrics_meta({ANALYSIS: analysis}, origin=origin)

    def observe_lyrics(
        self, callback: Callable[[object], None], *, skip_origins: tuple[object, ...] = ()
    ) -> Subscription:
        """Call `callback(origin)` after each transaction that changed the lyrics text,
        except those whose origin is in `skip_origins`. It runs inside the commit: only
        note the change there. Stop with `unobserve_lyrics`."""

        def on_event(event: object) -> None:
            origin = event_origin([event])
            if origin not in skip_origins:
                callback(origin)

        return self._roots.lyrics.observe(on_event)

    def unobserve_lyrics(self, subscription: Subscription) -> None:
        self._roots.lyrics.unobserve(subscription)
