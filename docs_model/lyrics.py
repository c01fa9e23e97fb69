"""Lyrics: a collaborative Text, and free-form `lyrics_meta` (sections, rhyme scheme,
suggestions)."""

from __future__ import annotations

from collections.abc import Mapping

from .base import DocumentBase, Origin
from .errors import InvalidValueError, MalformedDocumentError
from .fields import entries, plain_json, to_stored
from .schema import JSONValue

__all__ = ["LyricsMixin"]


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
