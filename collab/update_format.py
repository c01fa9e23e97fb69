"""Reading the delete set of a Yjs v1 update (the structs are skipped, not built).

A v1 update is its structs grouped by client (``varuint clients``, then per
client ``varuint count, varuint client, varuint clock`` and the structs), then
its delete set (``varuint clients``, then per client ``varuint client, varuint
ranges`` and ``varuint clock, varuint length`` per range). pycrdt exposes the
state vector of an update but not its delete set, which the room needs: an
update that deletes clocks nobody has is held *pending* by every document that
applies it, and silently deletes whatever later arrives under those ids, in
some documents and not others (a compaction re-encodes the document, and
pending deletions do not survive that). Layout per Yjs ``encoding.js``,
``UpdateDecoderV1`` and lib0 ``decoding.js``.
"""

from __future__ import annotations

from jacameno.collab.errors import ProtocolError

#: Struct kinds (the low 5 bits of a struct's info byte).
_GC = 0
_SKIP = 10
#: Item flags in the info byte.
_HAS_ORIGIN = 0x80
_HAS_RIGHT_ORIGIN = 0x40
_HAS_PARENT_SUB = 0x20
#: Content refs whose type carries a name (XmlElement, XmlHook).
_NAMED_TYPES = (3, 5)
#: Deepest nesting of lib0 ``any`` values read (a document never needs more).
_MAX_ANY_DEPTH = 64


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("truncated update")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varuint(self) -> int:
        value = shift = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 70:
                raise ProtocolError("malformed update: a number is too long")

    def skip_varint(self) -> None:
        while self.byte() & 0x80:
            pass

    def skip(self, count: int) -> None:
        if count > len(self.data) - self.pos:
            raise ProtocolError("truncated update")
        self.pos += count

    def skip_varbytes(self) -> None:
        self.skip(self.varuint())

    def skip_any(self, depth: int = 0) -> None:
        if depth > _MAX_ANY_DEPTH:
            raise ProtocolError("malformed update: a value is nested too deeply")
        tag = self.byte()
        if tag in (127, 126, 121, 120):  # undefined, null, false, true
            return
        if tag == 125:  # integer
            self.skip_varint()
        elif tag == 124:  # float32
            self.skip(4)
        elif tag in (123, 122):  # float64, bigint64
            self.skip(8)
        elif tag in (119, 116):  # string, binary
            self.skip_varbytes()
        elif tag == 118:  # object
            for _ in range(self.varuint()):
                self.skip_varbytes()
                self.skip_any(depth + 1)
        elif tag == 117:  # array
            for _ in range(self.varuint()):
                self.skip_any(depth + 1)
        else:
            raise ProtocolError(f"malformed update: unknown value tag {tag}")


def _skip_content(reader: _Reader, ref: int) -> int:
    """Skip one item's content; return its length in clock units."""
    if ref == 1:  # deleted
        return reader.varuint()
    if ref == 2:  # JSON strings
        count = reader.varuint()
        for _ in range(count):
            reader.skip_varbytes()
        return count
    if ref == 4:  # string: its length counts UTF-16 code units, as in JavaScript
        size = reader.varuint()
        start = reader.pos
        reader.skip(size)
        try:
            text = reader.data[start : start + size].decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("malformed update: a string is not UTF-8") from None
        return len(text.encode("utf-16-le")) // 2
    if ref in (3, 5):  # binary, embed
        reader.skip_varbytes()
        return 1
    if ref == 6:  # format: key, value
        reader.skip_varbytes()
        reader.skip_varbytes()
        return 1
    if ref == 7:  # type
        if reader.varuint() in _NAMED_TYPES:
            reader.skip_varbytes()
        return 1
    if ref == 8:  # any
        count = reader.varuint()
        for _ in range(count):
            reader.skip_any()
        return count
    if ref == 9:  # subdocument: guid, options
        reader.skip_varbytes()
        reader.skip_any()
        return 1
    raise ProtocolError(f"malformed update: unknown content ref {ref}")


def _skip_structs(reader: _Reader) -> dict[int, tuple[int, int]]:
    """Skip the structs; return ``client -> (first clock, clock after the last)``,
    skips (gaps a merged update leaves) included."""
    ranges: dict[int, tuple[int, int]] = {}
    for _ in range(reader.varuint()):
        count = reader.varuint()
        client = reader.varuint()
        clock = start = reader.varuint()
        for _ in range(count):
            info = reader.byte()
            ref = info & 0x1F
            if ref in (_GC, _SKIP):
                clock += reader.varuint()  # length
                continue
            if info & _HAS_ORIGIN:
                reader.varuint()
                reader.varuint()
            if info & _HAS_RIGHT_ORIGIN:
                reader.varuint()
                reader.varuint()
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                if reader.varuint():  # parent named by a root key
                    reader.skip_varbytes()
                else:  # parent named by an item id
                    reader.varuint()
                    reader.varuint()
                if info & _HAS_PARENT_SUB:
                    reader.skip_varbytes()
            clock += _skip_content(reader, ref)
        if count:
            ranges[client] = (start, clock)
    return ranges


def delete_set(update: bytes) -> dict[int, list[tuple[int, int]]]:
    """The ``client -> [(clock, length), ...]`` ranges ``update`` deletes.

    Raises :class:`ProtocolError` when the update is malformed, or uses a kind of
    content Yjs does not write (yrs reads a few more; no yjs client sends them).
    """
    reader = _Reader(update)
    _skip_structs(reader)
    return _read_delete_set(reader)


def _read_delete_set(reader: _Reader) -> dict[int, list[tuple[int, int]]]:
    ranges: dict[int, list[tuple[int, int]]] = {}
    for _ in range(reader.varuint()):
        client = reader.varuint()
        ranges.setdefault(client, []).extend(
            (reader.varuint(), reader.varuint()) for _ in range(reader.varuint())
        )
    # Bytes after the delete set are ignored, as Yjs and yrs ignore them.
    return ranges


def struct_ranges(update: bytes) -> dict[int, tuple[int, int]]:
    """``client -> (first clock, clock after the last)`` of the structs ``update`` carries
    (pycrdt's ``get_state`` leaves out a client whose structs do not start at clock 0).

    Raises :class:`ProtocolError` when the update is malformed.
    """
    return _skip_structs(_Reader(update))


def deletes_unknown(update: bytes, state_vector: dict[int, int]) -> bool:
    """True when ``update`` deletes clocks past ``state_vector`` (what a document holds)."""
    return _deletes_past(delete_set(update), state_vector)


def _deletes_past(deletes: dict[int, list[tuple[int, int]]], state_vector: dict[int, int]) -> bool:
    for client, ranges in deletes.items():
        known = state_vector.get(client, 0)
        if any(clock + length > known for clock, length in ranges):
            return True
    return False


def holds(state_vector: dict[int, int], update: bytes) -> bool:
    """``covers(state_vector, update) and not deletes_unknown(update, state_vector)``
    with one read of the update (the room checks every update it applies).

    A struct section that cannot be read is not held; a delete set that cannot be read
    raises :class:`ProtocolError`, as :func:`deletes_unknown` does.
    """
    reader = _Reader(update)
    try:
        structs = _skip_structs(reader)
    except ProtocolError:
        return False
    if any(state_vector.get(client, 0) < end for client, (_start, end) in structs.items()):
        return False
    return not _deletes_past(_read_delete_set(reader), state_vector)
