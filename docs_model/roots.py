"""Typed handles on the root types of a project document.

Yjs roots are untyped on the wire: a peer that calls ``getArray("tracks")`` writes list
items into the same named root that we read as a Map, and our Map view simply does not
see them. `Roots` therefore also keeps a second, differently cast handle on each root, so
`validate()` can report such foreign content without ever losing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, Text

from .errors import DocsModelError
from .schema import COACHING, COMMENTS, JOBS, LYRICS, LYRICS_META, MAP_ROOTS, META, MIX, TRACKS

__all__ = ["Roots", "get_roots"]


@dataclass(frozen=True)
class Roots:
    doc: Doc[Any]
    meta: Map[object]
    tracks: Map[object]
    lyrics: Text
    lyrics_meta: Map[object]
    mix: Map[object]
    jobs: Map[object]
    coaching: Map[object]
    comments: Array[object]
    # The same roots seen through another type. A Text view counts list and text items
    # safely; an Array view of text with non-BMP characters hangs pycrdt 0.14, so we
    # never build one.
    sequence_views: dict[str, Text]
    keyed_views: dict[str, Map[object]]

    def foreign_content(self, name: str) -> str | None:
        """What a root holds besides its own type's content, or None."""
        if name in MAP_ROOTS and len(self.sequence_views[name]) > 0:
            return "holds list or text items; expected a Map"
        if name in self.keyed_views and len(self.keyed_views[name]) > 0:
            expected = "a Text" if name == LYRICS else "an Array"
            return f"holds Map entries; expected {expected}"
        if name == COMMENTS and self.comments_hold_text():
            return "holds text; expected an Array of Maps"
        return None

    def comments_hold_text(self) -> bool:
        """Whether a peer wrote text into `comments`; reading it as an Array would hang."""
        return str(self.sequence_views[COMMENTS]) != ""


def get_roots(doc: Doc[Any]) -> Roots:
    """Get (or define) every root with its type.

    Call it outside observer callbacks: pycrdt cannot define a root inside the read-only
    transaction an observer runs in.
    """
    try:
        # Define each root with its own type first: the first cast of a root is the one
        # `doc[name]` keeps, the extra views below must not win.
        maps = {name: doc.get(name, type=Map) for name in MAP_ROOTS}
        lyrics = doc.get(LYRICS, type=Text)
        comments = doc.get(COMMENTS, type=Array)
        sequence_views = {name: doc.get(name, type=Text) for name in (*MAP_ROOTS, COMMENTS)}
        keyed_views = {name: doc.get(name, type=Map) for name in (LYRICS, COMMENTS)}
    except RuntimeError as exc:
        raise DocsModelError(
            "cannot open the document's roots inside an observer callback (read-only "
            "transaction); create the ProjectDocument before observing"
        ) from exc
    return Roots(
        doc=doc,
        meta=maps[META],
        tracks=maps[TRACKS],
        lyrics=lyrics,
        lyrics_meta=maps[LYRICS_META],
        mix=maps[MIX],
        jobs=maps[JOBS],
        coaching=maps[COACHING],
        comments=comments,
        sequence_views=sequence_views,
        keyed_views=keyed_views,
    )
