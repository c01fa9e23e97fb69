"""Comments: an Array of Maps, each pinned (optionally) to a time in the song."""

from __future__ import annotations

from pycrdt import Map

from .base import DocumentBase, Origin, new_id
from .errors import InvalidValueError, UnknownCommentError
from .fields import UNSET, checked_fields
from .schema import CommentView
from .views import COMMENT_FIELDS, items_of, read_comment

__all__ = ["CommentsMixin"]


class CommentsMixin(DocumentBase):
    def add_comment(
        self,
        author: str,
        text: str,
        time_s: float | None = None,
        *,
        reply_to: str | None = None,
        origin: Origin = None,
    ) -> str:
        """Append a comment by `author`, at `time_s` seconds into the song if given, as a
        reply to the comment `reply_to` if given (which must exist); returns its id."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidValueError("text must be a non-empty string")
        fields = checked_fields(
            {
                "author": author,
                "text": text,
                "time_s": time_s,
                "reply_to": UNSET if reply_to is None else reply_to,
            },
            COMMENT_FIELDS,
        )
        comment_id = new_id()
        with self._transaction(origin):
            if reply_to is not None and self._comment_index(reply_to) is None:
                raise UnknownCommentError(reply_to)
            self._roots.comments.append(
                Map({"id": comment_id, **fields, "created_at": self._clock(), "resolved": False})
            )
        return comment_id

    def set_comment_resolved(
        self, comment_id: str, resolved: bool = True, *, origin: Origin = None
    ) -> None:
        """Mark the thread `comment_id` starts as resolved (or open again)."""
        COMMENT_FIELDS["resolved"].require(resolved)
        with self._transaction(origin):
            index = self._comment_index(comment_id)
            if index is None:
                raise UnknownCommentError(comment_id)
            raw = self._roots.comments[index]
            assert isinstance(raw, Map)
            raw["resolved"] = resolved

    def _comment_index(self, comment_id: str) -> int | None:
        if not self._roots.comments_hold_text():
            for index, raw in enumerate(items_of(self._roots.comments)):
                if isinstance(raw, Map) and raw.get("id") == comment_id:
                    return index
        return None

    def list_comments(self) -> list[CommentView]:
        """Readable comments in document order (appends from peers interleave the same
        way on every peer)."""
        with self._transaction(None):
            if self._roots.comments_hold_text():
                return []
            views = (read_comment(raw) for raw in items_of(self._roots.comments))
            return [view for view in views if view is not None]

    def remove_comment(self, comment_id: str, *, origin: Origin = None) -> None:
        with self._transaction(origin):
            index = self._comment_index(comment_id)
            if index is None:
                raise UnknownCommentError(comment_id)
            del self._roots.comments[index]
