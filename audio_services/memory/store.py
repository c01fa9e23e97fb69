"""Per-user memory vectors in lancedb: remember, search, forget, and the style they add up to.

A BTree index on ``user_id`` turns each query into an index lookup followed by an
exact cosine scan of that user's rows (lancedb prefilters), so no vector index is
needed and results are exact: 100,000 rows over 1,000 users answer in a few
milliseconds (``bench/bench_memory.py``). Every query and delete filters on
``user_id``: nothing of one user reaches another. The table itself is :mod:`.table`'s.

Rows written after the index was last built are scanned without it; every
``optimize_every`` writes the store folds them in (and compacts small files) in a
background task, and :meth:`StyleMemory.optimize` does it on demand. Forgotten rows
vanish from every query at once; their bytes leave the disk once compaction rewrites
their file (lance does when a tenth of a file's rows are deleted) and the versions
that held it are pruned (after 10 minutes).

Presets (:attr:`MemoryKind.MIX_PRESET`, :attr:`MemoryKind.MASTER_PRESET`) are
remembered with ``text`` = the preset's name and ``style`` = the context it was chosen
for (say "dark trap vocal over a heavy 808"). Their vector embeds that context (the
name when no context is given), so :meth:`StyleMemory.recommend_preset` finds the
presets a user chose for contexts like the one at hand.

Errors are :class:`MemoryStoreError` and :class:`MemoryInputError` (see :mod:`.records`).
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Self, cast

import anyio
import anyio.abc
import anyio.to_thread
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
from lancedb.query import ColumnOrdering
from lancedb.table import AsyncTable

from jacameno.audio_services.memory.embedder import Embedder
from jacameno.audio_services.memory.records import (
    PRESET_KINDS,
    STYLE_VERDICTS,
    MemoryInputError,
    MemoryItem,
    MemoryKind,
    MemoryStoreError,
    Verdict,
    checked_id,
    checked_kind,
    checked_style,
    checked_text,
    checked_verdicts,
)
from jacameno.audio_services.memory.table import (
    COLUMNS,
    DEFAULT_OPTIMIZE_EVERY,
    TableOptimizer,
    backend_errors,
    memory_rows,
    memory_schema,
    open_memory_table,
    quoted,
)

__all__ = [
    "DEFAULT_OPTIMIZE_EVERY",
    "READ_CONSISTENCY_S",
    "MemoryInputError",
    "MemoryItem",
    "MemoryKind",
    "MemoryStoreError",
    "StyleMemory",
    "Verdict",
]

#: Most texts :meth:`StyleMemory.remember_many` takes in one call.
MAX_BATCH = 1000
#: Most neighbours :meth:`StyleMemory.nearest` returns, and items :meth:`StyleMemory.items`.
MAX_NEAREST = 100
MAX_ITEMS = 10_000
#: Newest style rows averaged by :meth:`StyleMemory.style_profile`.
PROFILE_ROWS = 5000
#: Chosen presets weighed by :meth:`StyleMemory.recommend_preset`, nearest contexts first.
PRESET_NEIGHBOURS = 50
#: A choice whose context is 0.1 less cosine-similar counts e^-1 as much.
PRESET_SIMILARITY_SCALE = 0.1
#: Contexts less similar than this are unrelated, for WordLlama: short descriptions of
#: the same genre measured 0.26 to 0.81, of different genres -0.07 to 0.11.
PRESET_MIN_SIMILARITY = 0.25

Vector = npt.NDArray[np.float32]


#: Seconds another process's writes may take to show in reads (see :class:`StyleMemory`).
READ_CONSISTENCY_S = 0.5


class StyleMemory:
    """What each user wrote, accepted, edited, rejected and chose, searchable by meaning.

    An async context manager that owns the lancedb connection: one per process,
    entered by the app lifespan. ``uri`` is a local folder or any lancedb URI.
    ``read_consistency_s`` is how stale a read may be, in seconds, regarding other
    processes' writes (this store's own show at once): the default
    :data:`READ_CONSISTENCY_S` lets the instances of one deployment sharing a folder
    see each other's writes within half a second; 0 checks on every read (it costs up
    to 1 ms a read, several at p99, when a thousand writes came in the last 10
    minutes); at most 60; ``None`` never checks, for a store that is the folder's only
    user. ``storage_options`` go to lancedb's object store for ``s3://`` URIs.
    """

    def __init__(
        self,
        uri: str,
        embedder: Embedder,
        *,
        optimize_every: int = DEFAULT_OPTIMIZE_EVERY,
        read_consistency_s: float | None = READ_CONSISTENCY_S,
        storage_options: Mapping[str, str] | None = None,
        warm_up: bool = True,
    ) -> None:
        if optimize_every < 1:
            raise MemoryInputError(f"optimize_every must be at least 1 (got {optimize_every})")
        if read_consistency_s is not None and not 0 <= read_consistency_s <= 60:
            # Old versions are pruned after 10 minutes: a reader must never hold one that long.
            raise MemoryInputError(
                f"read_consistency_s must be 0 to 60 s or None (got {read_consistency_s})"
            )
        self._uri = uri
        self._embedder = embedder
        self._optimize_every = optimize_every
        self._read_consistency_s = read_consistency_s
        self._storage_options = dict(storage_options or {})
        self._warm_up = warm_up
        self._arrow_schema = memory_schema(embedder.name, embedder.dimensions)
        self._stack: AsyncExitStack | None = None
        self._opened: tuple[AsyncTable, TableOptimizer] | None = None
        self._last_created_at = 0.0

    @property
    def embedding_model(self) -> dict[str, object]:
        """The embedder's name and its vectors' dimensions."""
        return {"name": self._embedder.name, "dimensions": self._embedder.dimensions}

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise MemoryStoreError("this StyleMemory is already open: enter it once")
        if self._warm_up:
            # Load the model now (0.14 s), so that a broken install stops start-up, not a
            # request; without, the first embedding loads it.
            probe = await anyio.to_thread.run_sync(self._embedder.embed, ["warm up"])
            if probe.shape != (1, self._embedder.dimensions):
                raise MemoryStoreError(
                    f"the embedder {self._embedder.name} returned vectors of shape {probe.shape}"
                    f" where (1, {self._embedder.dimensions}) was announced"
                )
        async with AsyncExitStack() as stack:
            table, unindexed_rows = await open_memory_table(
                stack,
                self._uri,
                self._arrow_schema,
                read_consistency_s=self._read_consistency_s,
                storage_options=self._storage_options,
            )
            task_group = await stack.enter_async_context(anyio.create_task_group())
            optimizer = TableOptimizer(table, task_group, every=self._optimize_every)
            self._opened = table, optimizer
            self._stack = stack.pop_all()
        optimizer.note_writes(unindexed_rows)  # rows earlier runs left unindexed count too
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        try:
            if stack is not None:
                # The task group waits for a running optimization, then the table closes.
                await stack.__aexit__(exc_type, exc, traceback)
        finally:
            self._opened = None

    def _opened_parts(self) -> tuple[AsyncTable, TableOptimizer]:
        if self._opened is None:
            raise MemoryStoreError(
                "StyleMemory is not open: use `async with StyleMemory(uri, embedder)`"
                " (the app lifespan enters it)"
            )
        return self._opened

    @property
    def _table(self) -> AsyncTable:
        return self._opened_parts()[0]

    def _note_writes(self, count: int) -> None:
        self._opened_parts()[1].note_writes(count)

    def _now(self) -> float:
        # Strictly increasing, so that items made in one batch keep their order.
        self._last_created_at = max(time.time(), self._last_created_at + 1e-6)
        return self._last_created_at

    async def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        vectors = await anyio.to_thread.run_sync(self._embedder.embed, texts)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    async def remember(
        self,
        user_id: str,
        kind: MemoryKind,
        text: str,
        verdict: Verdict,
        *,
        project_id: str | None = None,
        style: str | None = None,
    ) -> MemoryItem:
        """Store one text of ``user_id`` (stripped, at most 2000 characters)."""
        items = await self.remember_many(
            user_id, kind, [text], verdict, project_id=project_id, style=style
        )
        return items[0]

    async def remember_many(
        self,
        user_id: str,
        kind: MemoryKind,
        texts: list[str],
        verdict: Verdict,
        *,
        project_id: str | None = None,
        style: str | None = None,
    ) -> list[MemoryItem]:
        """Store up to 1000 texts of ``user_id`` with one embedding call and one write.

        For presets ``texts`` are preset names and ``style`` the context they were
        chosen for, which is what gets embedded (see the module's docstring).
        """
        user_id = checked_id("user_id", user_id)
        kind = checked_kind(kind)
        (verdict,) = checked_verdicts([verdict])
        if project_id is not None:
            project_id = checked_id("project_id", project_id)
        style = checked_style(style)
        if isinstance(texts, str) or not 1 <= len(texts) <= MAX_BATCH:
            raise MemoryInputError(
                f"texts must be a list of 1 to {MAX_BATCH} strings (got {texts!r:.60})"
            )
        texts = [checked_text(text) for text in texts]
        embedded = [style] * len(texts) if kind in PRESET_KINDS and style else texts
        vectors = await self._embed(embedded)
        items = [
            MemoryItem(
                id=uuid.uuid4().hex,
                user_id=user_id,
                kind=kind,
                text=text,
                verdict=verdict,
                project_id=project_id,
                style=style,
                created_at=self._now(),
            )
            for text in texts
        ]
        with backend_errors("add memories"):
            await self._table.add(memory_rows(items, vectors, self._arrow_schema))
        self._note_writes(len(items))
        return items

    async def nearest(
        self,
        user_id: str,
        query: str,
        *,
        kind: MemoryKind = MemoryKind.LYRICS,
        k: int = 5,
        verdicts: Sequence[Verdict] = STYLE_VERDICTS,
    ) -> list[tuple[MemoryItem, float]]:
        """Up to ``k`` (at most 100) of ``user_id``'s items of ``kind`` with one of
        ``verdicts``, closest to ``query`` first, with their cosine similarity (-1 to 1)."""
        user_id = checked_id("user_id", user_id)
        kind = checked_kind(kind)
        chosen = checked_verdicts(verdicts)
        if not 1 <= k <= MAX_NEAREST:
            raise MemoryInputError(f"k must be 1 to {MAX_NEAREST} (got {k})")
        where = f"user_id = '{user_id}' AND kind = '{kind}' AND verdict IN ({quoted(chosen)})"
        rows = await self._search(where, checked_text(query, field="query"), k, COLUMNS)
        return [(MemoryItem.from_row(row), 1.0 - cast(float, row["_distance"])) for row in rows]

    async def _search(
        self, where: str, query: str, k: int, columns: list[str]
    ) -> list[dict[str, object]]:
        vector = (await self._embed([query]))[0]
        with backend_errors("search memories"):
            found = (
                await self._table.query()
                .nearest_to(vector)
                .distance_type("cosine")
                .where(where)
                .select([*columns, "_distance"])
                .limit(k)
                .to_arrow()
            )
        rows: list[dict[str, object]] = found.to_pylist()
        return rows

    async def items(self, user_id: str, *, limit: int = 500) -> list[MemoryItem]:
        """``user_id``'s items, newest first, at most ``limit`` (up to 10,000)."""
        user_id = checked_id("user_id", user_id)
        if not 1 <= limit <= MAX_ITEMS:
            raise MemoryInputError(f"limit must be 1 to {MAX_ITEMS} (got {limit})")
        found = await self._newest(f"user_id = '{user_id}'", COLUMNS, limit)
        return [MemoryItem.from_row(row) for row in found.to_pylist()]

    async def _newest(self, where: str, columns: list[str], limit: int) -> pa.Table:
        newest_first = [ColumnOrdering(column_name="created_at", ascending=False)]
        with backend_errors("read memories"):
            query = self._table.query().where(where).select(columns).order_by(newest_first)
            return await query.limit(limit).to_arrow()

    async def forget(self, user_id: str, item_id: str) -> bool:
        """Delete one item of ``user_id``; ``False`` if that user has no such item."""
        where = f"user_id = '{checked_id('user_id', user_id)}'"
        where += f" AND id = '{checked_id('item_id', item_id)}'"
        return bool(await self._delete(where))

    async def forget_user(self, user_id: str) -> int:
        """Delete every item of ``user_id`` (account deletion); the number removed."""
        where = f"user_id = '{checked_id('user_id', user_id)}'"
        return await self._delete(where)

    async def _delete(self, where: str) -> int:
        with backend_errors("forget memories"):
            result = await self._table.delete(where)
        self._note_writes(1)
        # lancedb 0.40 sets num_deleted_rows; its type stub does not declare it.
        return int(result.num_deleted_rows)  # type: ignore[attr-defined]

    async def style_version(self, user_id: str) -> str:
        """16 hex digits that change whenever ``user_id``'s memory changes (and with the
        embedding model); equal for equal memories, across processes and restarts."""
        user_id = checked_id("user_id", user_id)
        with backend_errors("read memory ids"):
            found = (
                await self._table.query().where(f"user_id = '{user_id}'").select(["id"]).to_arrow()
            )
        digest = hashlib.blake2b(self._embedder.name.encode(), digest_size=8)
        for item_id in sorted(found.column("id").to_pylist()):
            digest.update(f"\n{item_id}".encode())
        return digest.hexdigest()

    async def style_profile(self, user_id: str) -> Vector | None:
        """The unit mean of ``user_id``'s written, accepted and edited lyrics vectors
        (the newest 5000), or ``None`` if there are none."""
        user_id = checked_id("user_id", user_id)
        where = (
            f"user_id = '{user_id}' AND kind = '{MemoryKind.LYRICS}'"
            f" AND verdict IN ({quoted(STYLE_VERDICTS)})"
        )
        found = await self._newest(where, ["vector"], PROFILE_ROWS)
        if found.num_rows == 0:
            return None
        flat = found.column("vector").combine_chunks().flatten().to_numpy()
        mean = flat.reshape(found.num_rows, -1).astype(np.float32).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return None if norm == 0.0 else (mean / norm).astype(np.float32)

    async def recommend_preset(self, user_id: str, kind: MemoryKind, context: str) -> str | None:
        """The preset ``user_id`` chose most for contexts like ``context``, or ``None``.

        Each of the 50 chosen presets nearest to ``context`` whose context has a cosine
        similarity of at least 0.25 adds ``exp((similarity - 1) / 0.1)`` to its name's
        score: a choice in the same context counts 1, one 0.1 less similar e^-1. The
        highest score wins; ``None`` when no choice was made in a related context.
        """
        user_id = checked_id("user_id", user_id)
        kind = checked_kind(kind)
        if kind not in PRESET_KINDS:
            raise MemoryInputError(f"recommend_preset takes a preset kind (got {kind})")
        where = f"user_id = '{user_id}' AND kind = '{kind}' AND verdict = '{Verdict.CHOSEN}'"
        context = checked_text(context, field="context")
        rows = await self._search(where, context, PRESET_NEIGHBOURS, ["text"])
        scores: dict[str, float] = {}
        for row in rows:
            similarity = 1.0 - cast(float, row["_distance"])
            if similarity >= PRESET_MIN_SIMILARITY:
                weight = math.exp((similarity - 1.0) / PRESET_SIMILARITY_SCALE)
                scores[str(row["text"])] = scores.get(str(row["text"]), 0.0) + weight
        if not scores:
            return None
        return max(scores, key=lambda name: (scores[name], name))

    async def optimize(self) -> None:
        """Fold rows written since the last run into the user_id index, compact small
        files and prune versions older than 10 minutes (one run at a time)."""
        await self._opened_parts()[1].optimize()
