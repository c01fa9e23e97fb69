"""Comments: an Array of Maps, each pinned (optionally) to a time in the song."""

from __future__ import annotations

from pycrdt import Map

from .base import DocumentBase, Origin, new_id
from .errors import InvalidValueError, UnknownCommentError
from .fields import checked_fields
from .schema import CommentView
from .views import COMMENT_FIELDS, items_of, read_comment

__all__ = ["CommentsMixin"]


class CommentsMixin(DocumentBase):
    def add_comment(
        self, author: str, text: str, time_s: float | None = None, *, origin: Origin = None
    ) -> str:
        """Append a comment by `author`, at `time_s` seconds into the song if given;
        returns its id."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidValueError("text must be a non-empty string")
        fields = checked_fields({"author": author, "text": text, "time_s": time_s}, COMMENT_FIELDS)
        comment_id = new_id()
        with self._transaction(origin):
            self._roots.comments.append(
                Map({"id": comment_id, **fields, "created_at": self._clock()})
            )
        return comment_id

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
            if not self._roots.comments_hold_text():
                for index, raw in enumerate(items_of(self._roots.comments)):
                    if isinstance(raw, Map) and raw.get("id") == comment_id:
                        del self._roots.comments[index]
                        return
            raise UnknownCommentError(comment_id)
