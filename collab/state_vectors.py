"""Yjs state vectors (lib0 encoding): which clock each client's edits reached."""

from __future__ import annotations

from jacameno.collab.errors import ProtocolError
from jacameno.collab.protocol import write_varuint


def decode_state_vector(state: bytes) -> dict[int, int]:
    """``varuint count`` then ``varuint client, varuint clock`` pairs (lib0 encoding)."""
    values: list[int] = []
    value = shift = 0
    for byte in state:
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            values.append(value)
            value = shift = 0
    if not values or len(values) != 1 + 2 * values[0]:
        raise ProtocolError("malformed state vector")
    pairs = values[1:]
    return dict(zip(pairs[0::2], pairs[1::2], strict=True))


def clock_of(state: bytes, client_id: int) -> int:
    """The clock ``client_id``'s edits reached in ``state`` (0: none)."""
    return decode_state_vector(state).get(client_id, 0)


def state_vector_with(state: bytes, client_id: int, clock: int) -> bytes:
    """``state`` with ``client_id``'s clock set to ``clock``."""
    clocks = decode_state_vector(state)
    clocks[client_id] = clock
    encoded = [write_varuint(len(clocks))]
    for client, value in clocks.items():
        encoded += [write_varuint(client), write_varuint(value)]
    return b"".join(encoded)
