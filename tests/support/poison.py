"""Hand-built Yjs updates that decode but cannot be applied (the "poison" class).

A v1 update is ``varuint clients``, then per client ``varuint structs, varuint
client, varuint clock`` and the structs, then a delete set. An item without
origins names its parent by id; when that id is a plain value (``ContentAny``),
no document can integrate it. When the id does not exist yet, the item waits as
*pending* and breaks the update that later brings a plain value under that id.
"""

from __future__ import annotations

from typing import Any

import pycrdt
from pycrdt import write_var_uint as varuint

#: Info byte of an item whose content is ``ContentAny`` (ref 8) with no origins.
_ANY_ITEM = 8
_ANY_INTEGER = 125


def item_under(parent_client: int, parent_clock: int, *, client: int, clock: int = 0) -> bytes:
    """An update with one item of ``client`` whose parent is the item ``(client, clock)``."""
    item = (
        bytes([_ANY_ITEM])
        + varuint(0)  # parent given by id, not by root name
        + varuint(parent_client)
        + varuint(parent_clock)
        + varuint(1)  # one value
        + bytes([_ANY_INTEGER])
        + varuint(5)
    )
    return varuint(1) + varuint(1) + varuint(client) + varuint(clock) + item + varuint(0)


def plain_value_doc(client_id: int = 1, values: int = 1) -> tuple[pycrdt.Doc[Any], list[bytes]]:
    """A document whose map ``tracks`` holds ``values`` plain values; and its updates."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client_id)
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    tracks = doc.get("tracks", type=pycrdt.Map)
    for index in range(values):
        tracks[f"k{index}"] = index
    return doc, updates


def poison_for(doc: pycrdt.Doc[Any], client: int = 99) -> bytes:
    """An item whose parent is the first plain value of ``doc``'s first client: never applies."""
    return item_under(doc.client_id, 0, client=client)
