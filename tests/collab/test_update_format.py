"""What an update carries, read from its bytes: struct ranges (for `covers`) and deletes."""

from __future__ import annotations

from typing import Any

import pycrdt
import pytest

from jacameno.collab.folding import covers
from jacameno.collab.protocol import decode_state_vector
from jacameno.collab.update_format import deletes_unknown, holds, struct_ranges


def _edits() -> tuple[pycrdt.Doc[Any], list[bytes]]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    text = doc.get("lyrics", type=pycrdt.Text)
    text.insert(0, "abcd")
    text.insert(4, "éfg😀")  # 😀 is two UTF-16 units, as Yjs counts clocks
    text.insert(9, "h")
    doc.get("meta", type=pycrdt.Map)["bpm"] = 96.0
    return doc, updates


def test_struct_ranges_follow_the_clocks_yjs_counts() -> None:
    doc, updates = _edits()
    client = doc.client_id
    assert [struct_ranges(u) for u in updates] == [
        {client: (0, 4)},
        {client: (4, 9)},
        {client: (9, 10)},
        {client: (10, 11)},
    ]
    assert struct_ranges(doc.get_update()) == {client: (0, 11)}
    assert decode_state_vector(doc.get_state()) == {client: 11}


def test_an_update_after_a_gap_is_not_covered() -> None:
    """pycrdt's get_state of an update that does not start at clock 0 is empty, which
    made a room count an update with missing predecessors as applied."""
    _doc, updates = _edits()
    assert pycrdt.get_state(updates[2]) == b"\x00"
    room: pycrdt.Doc[Any] = pycrdt.Doc()
    room.apply_update(updates[0])
    room.apply_update(updates[2])  # pending: clocks 4-8 are missing
    state = decode_state_vector(room.get_state())
    assert covers(state, updates[0])
    assert not covers(state, updates[2])
    # Even once the gap arrives, the held struct stays out of this document (yrs keeps
    # it pending): such an update must be refused, not counted as applied.
    room.apply_update(updates[1])
    assert not covers(decode_state_vector(room.get_state()), updates[2])
    assert str(room.get("lyrics", type=pycrdt.Text)) == "abcdéfg😀"


def test_a_deletion_of_unknown_clocks_is_seen() -> None:
    doc, _updates = _edits()
    before = decode_state_vector(doc.get_state())
    del doc.get("lyrics", type=pycrdt.Text)[0:2]
    deletion = doc.get_update(pycrdt.Doc().get_state())
    assert not deletes_unknown(deletion, before)
    assert deletes_unknown(deletion, {})


@pytest.mark.parametrize("garbage", [b"\x01", b"\x01\x05\x01\x00"])
def test_a_malformed_update_is_not_covered(garbage: bytes) -> None:
    assert not covers({}, garbage)


def test_holds_is_covers_and_no_unknown_deletion_in_one_read() -> None:
    doc, updates = _edits()
    del doc.get("lyrics", type=pycrdt.Text)[0:2]
    deletion = doc.get_update(pycrdt.Doc().get_state())
    states = [{}, {doc.client_id: 4}, decode_state_vector(doc.get_state())]
    for update in [*updates, deletion]:
        for state in states:
            expected = covers(state, update) and not deletes_unknown(update, state)
            assert holds(state, update) is expected
