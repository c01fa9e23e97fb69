"""The y-websocket wire protocol: strict decoding and encoding of one message per frame.

A frame is ``varuint message_type`` followed by its payload:

- ``0`` sync: ``varuint sync_type`` (0 step 1, 1 step 2, 2 update) then ``varbytes``
  (a state vector for step 1, an update otherwise);
- ``1`` awareness: ``varbytes`` of an awareness update
  (``varuint count``, then per client ``varuint client_id, varuint clock, varstring json``);
- ``2`` auth and ``3`` query-awareness.

Every reader checks bounds and raises :class:`~collab.errors.ProtocolError` on
truncated or malformed input instead of an ``IndexError`` deep inside a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import pycrdt

from jacameno.collab.errors import ProtocolError

#: Longest varuint accepted (JavaScript's lib0 encodes up to 53-bit integers).
_MAX_VARUINT_BYTES = 8


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3


class SyncType(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        value = 0
        shift = 0
        for _ in range(_MAX_VARUINT_BYTES):
            if self.pos >= len(self.data):
                raise ProtocolError("truncated message: a number is cut off")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise ProtocolError("malformed message: a number is too long")

    def varbytes(self) -> bytes:
        length = self.varuint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError(
                f"truncated message: {length} bytes announced, {len(self.data) - self.pos} present"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def done(self) -> bool:
        return self.pos >= len(self.data)


def write_varuint(value: int) -> bytes:
    return pycrdt.write_var_uint(value)


def write_varbytes(data: bytes) -> bytes:
    return pycrdt.write_var_uint(len(data)) + data


@dataclass(frozen=True, slots=True)
class SyncMessage:
    sync_type: SyncType
    payload: bytes


@dataclass(frozen=True, slots=True)
class AwarenessMessage:
    payload: bytes


@dataclass(frozen=True, slots=True)
class QueryAwarenessMessage:
    pass


@dataclass(frozen=True, slots=True)
class AuthMessage:
    payload: bytes


Message = SyncMessage | AwarenessMessage | QueryAwarenessMessage | AuthMessage


def decode_message(frame: bytes) -> Message:
    """Decode one frame; raises :class:`ProtocolError` when it is malformed or truncated."""
    reader = _Reader(frame)
    kind = reader.varuint()
    if kind == MessageType.SYNC:
        sync_type = reader.varuint()
        if sync_type not in (SyncType.STEP1, SyncType.STEP2, SyncType.UPDATE):
            raise ProtocolError(f"unknown sync message type {sync_type}")
        message: Message = SyncMessage(SyncType(sync_type), reader.varbytes())
    elif kind == MessageType.AWARENESS:
        message = AwarenessMessage(reader.varbytes())
    elif kind == MessageType.QUERY_AWARENESS:
        message = QueryAwarenessMessage()
    elif kind == MessageType.AUTH:
        message = AuthMessage(frame[reader.pos :])
        return message
    else:
        raise ProtocolError(f"unknown message type {kind}")
    if not reader.done():
        raise ProtocolError("malformed message: trailing bytes after the payload")
    return message


def sync_step1(state_vector: bytes) -> bytes:
    return bytes((MessageType.SYNC, SyncType.STEP1)) + write_varbytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return bytes((MessageType.SYNC, SyncType.STEP2)) + write_varbytes(update)


def sync_update(update: bytes) -> bytes:
    return bytes((MessageType.SYNC, SyncType.UPDATE)) + write_varbytes(update)


def awareness_message(payload: bytes) -> bytes:
    return bytes((MessageType.AWARENESS,)) + write_varbytes(payload)


def query_awareness_message() -> bytes:
    return bytes((MessageType.QUERY_AWARENESS,))


#: y-protocols' auth message kind: the server refused something (``auth.js``).
AUTH_PERMISSION_DENIED = 0


def permission_denied_message(reason: str) -> bytes:
    """The y-protocols auth message "permission denied" (y-websocket logs ``reason``)."""
    return bytes((MessageType.AUTH, AUTH_PERMISSION_DENIED)) + write_varbytes(reason.encode())


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    """A Yjs state vector (``varuint count``, then ``client, clock`` pairs) as a dict."""
    reader = _Reader(state_vector)
    count = reader.varuint()
    clocks = {}
    for _ in range(count):
        client = reader.varuint()
        clocks[client] = reader.varuint()
    if not reader.done():
        raise ProtocolError("malformed state vector: trailing bytes")
    return clocks


def is_empty_update(update: bytes) -> bool:
    """True for an update that carries nothing (no structs, no deletions)."""
    return update == b"\x00\x00"


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    """One client's awareness: its clock and its state as JSON text (``"null"`` = gone)."""

    client_id: int
    clock: int
    state_json: str

    @property
    def removed(self) -> bool:
        return self.state_json == "null"


def decode_awareness(payload: bytes, *, max_entries: int = 100_000) -> list[AwarenessEntry]:
    """Decode an awareness update; raises :class:`ProtocolError` when malformed or when
    it announces more than ``max_entries`` entries (checked before reading any)."""
    reader = _Reader(payload)
    count = reader.varuint()
    if count > max_entries:
        raise ProtocolError(f"awareness update with {count} entries; at most {max_entries}")
    entries = []
    for _ in range(count):
        client_id = reader.varuint()
        clock = reader.varuint()
        try:
            state = reader.varbytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("malformed awareness update: state is not UTF-8") from None
        entries.append(AwarenessEntry(client_id, clock, state))
    if not reader.done():
        raise ProtocolError("malformed awareness update: trailing bytes")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_varuint(len(entries))]
    for entry in entries:
        parts.append(write_varuint(entry.client_id))
        parts.append(write_varuint(entry.clock))
        parts.append(write_varbytes(entry.state_json.encode("utf-8")))
    return b"".join(parts)
