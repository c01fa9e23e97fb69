"""The lancedb table behind :class:`~.store.StyleMemory`: its schema, how it opens, and
how lancedb's errors become :class:`~.records.MemoryStoreError`.

One table, ``memory``: id, user_id, kind, text, verdict, project_id, style, created_at
(epoch seconds) and vector (fixed-size list of float32, the embedder's dimensions). The
schema's metadata names the embedding model, so a folder written with another model is
refused at start-up instead of answering with meaningless neighbours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from datetime import timedelta

import anyio
import anyio.abc
import lancedb
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
from lancedb.index import BTree
from lancedb.table import AsyncTable

from jacameno.audio_services.memory.records import MemoryItem, MemoryStoreError

__all__ = [
    "COLUMNS",
    "DEFAULT_OPTIMIZE_EVERY",
    "TABLE_NAME",
    "VERSIONS_KEPT",
    "TableOptimizer",
    "backend_errors",
    "memory_rows",
    "memory_schema",
    "open_memory_table",
    "quoted",
]

log = logging.getLogger("jacameno.memory")

TABLE_NAME = "memory"
#: Rows written (or deletes made) between two background optimizations.
DEFAULT_OPTIMIZE_EVERY = 200
#: How long an optimization keeps old table versions (each write makes one). Readers
#: that check for new versions (see ``read_consistency_s``) never hold one that long;
#: lancedb's default of 7 days would keep hundreds of thousands and slow every check.
VERSIONS_KEPT = timedelta(minutes=10)
#: The columns of a :class:`MemoryItem`, in the table's order (the vector follows).
COLUMNS = ["id", "user_id", "kind", "text", "verdict", "project_id", "style", "created_at"]
_USER_INDEX = "user_id_idx"
_MODEL_KEY = b"embedding_model"
# What lancedb raises when its storage or a query fails.
_BACKEND_ERRORS = (OSError, RuntimeError, ValueError)


@contextmanager
def backend_errors(action: str) -> Iterator[None]:
    """Raise lancedb's failures inside the block as :class:`MemoryStoreError`."""
    try:
        yield
    except _BACKEND_ERRORS as exc:
        raise MemoryStoreError(f"the memory store cannot {action}: {exc}") from exc


def quoted(values: Iterable[str]) -> str:
    """``'a', 'b'`` for a SQL ``IN`` list: only for enum values and checked ids."""
    return ", ".join(f"'{value}'" for value in values)


def memory_schema(model_name: str, dimensions: int) -> pa.Schema:
    """The table's Arrow schema for vectors of ``dimensions`` from ``model_name``."""
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("user_id", pa.string(), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("verdict", pa.string(), nullable=False),
            pa.field("project_id", pa.string()),
            pa.field("style", pa.string()),
            pa.field("created_at", pa.float64(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dimensions), nullable=False),
        ],
        metadata={_MODEL_KEY: model_name.encode()},
    )


def memory_rows(
    items: list[MemoryItem], vectors: npt.NDArray[np.float32], schema: pa.Schema
) -> pa.Table:
    """``items`` and their vectors (one row each) as an Arrow table of ``schema``."""
    columns: dict[str, object] = {name: [getattr(item, name) for item in items] for name in COLUMNS}
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    columns["vector"] = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    return pa.table(columns, schema=schema)


async def open_memory_table(
    stack: AsyncExitStack,
    uri: str,
    schema: pa.Schema,
    *,
    read_consistency_s: float | None,
    storage_options: Mapping[str, str] | None = None,
) -> tuple[AsyncTable, int]:
    """Open (or create) the table at ``uri``, with its BTree index on user_id.

    ``storage_options`` reach lancedb's object store (``aws_endpoint``, keys, ...) for
    ``s3://`` URIs. The connection and table close when ``stack`` does. Returns the
    table and how many of its rows the index does not cover yet.
    """
    consistency = None if read_consistency_s is None else timedelta(seconds=read_consistency_s)
    with backend_errors(f"open {uri}"):
        connection = await lancedb.connect_async(
            uri,
            read_consistency_interval=consistency,
            storage_options=dict(storage_options) if storage_options else None,
        )
        stack.callback(connection.close)
        try:
            table = await connection.open_table(TABLE_NAME)
        except ValueError:  # not there yet
            table = await connection.create_table(TABLE_NAME, schema=schema, exist_ok=True)
        stack.callback(table.close)
        _check_model(uri, await table.schema(), schema)
        index = await _user_index(table)
        stats = await table.index_stats(index)
    return table, 0 if stats is None else stats.num_unindexed_rows


async def _user_index(table: AsyncTable) -> str:
    """The name of the table's index on user_id, made if missing. Processes starting
    together over one store race to make it: the loser's commit conflicts, and it takes
    the winner's index."""
    for attempt in range(3):
        found = [i.name for i in await table.list_indices() if list(i.columns) == ["user_id"]]
        if found:
            return str(found[0])
        try:
            await table.create_index("user_id", config=BTree(), name=_USER_INDEX)
        except RuntimeError as exc:
            if "conflict" not in str(exc).lower() or attempt == 2:
                raise
            await table.checkout_latest()  # type: ignore[no-untyped-call]
        else:
            return _USER_INDEX
    return _USER_INDEX


def _check_model(uri: str, found: pa.Schema, wanted: pa.Schema) -> None:
    def describe(schema: pa.Schema) -> str:
        model = (schema.metadata or {}).get(_MODEL_KEY, b"unknown").decode()
        vector = schema.field("vector").type if "vector" in schema.names else None
        return f"{getattr(vector, 'list_size', '?')}-d vectors of {model}"

    if describe(found) != describe(wanted):
        raise MemoryStoreError(
            f"the memory table at {uri} holds {describe(found)}, but this store embeds"
            f" {describe(wanted)}: use the same embedder or another folder"
        )


class TableOptimizer:
    """Optimizes a table in ``task_group`` every ``every`` writes, one run at a time.

    lancedb scans the rows written since its scalar index was built without the index,
    and each write adds a small file and a version: ``optimize()`` folds those rows
    into the index, compacts the files and prunes versions older than
    :data:`VERSIONS_KEPT`.
    """

    def __init__(self, table: AsyncTable, task_group: anyio.abc.TaskGroup, *, every: int) -> None:
        self._table = table
        self._task_group = task_group
        self._every = every
        self._lock = anyio.Lock()
        self._pending = False
        self._writes = 0

    def note_writes(self, count: int) -> None:
        """Count ``count`` rows written (or one delete); start a run when ``every`` is due."""
        self._writes += count
        if self._writes >= self._every and not self._pending:
            self._pending = True
            self._task_group.start_soon(self._optimize_in_background)

    async def optimize(self) -> None:
        """Optimize now (after a run already under way)."""
        async with self._lock:
            self._writes = 0
            with backend_errors("optimize the memory table"):
                stats = await self._table.optimize(cleanup_older_than=VERSIONS_KEPT)
            log.debug("memory table optimized: %s", stats)

    async def _optimize_in_background(self) -> None:
        try:
            await self.optimize()
        except MemoryStoreError:
            # Queries stay right without it (only slower): log, and retry after more writes.
            log.exception("background optimization of the memory table failed")
        finally:
            self._pending = False
