"""The job runner's seams and the plain records that cross them.

``audio_services`` never imports ``api``: storage and the database reach the
runner through :class:`AssetStore` and :class:`JobLedger`, rooms through
:class:`DocumentHost` (a :class:`collab.server.RoomServer` fits it as is).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio
import pycrdt

from jacameno.audio_services.errors import AudioError

#: Transaction origin of every document write the job runner makes.
JOB_ORIGIN = "service:jobs"

#: Seconds one attempt of a job may run, per kind (saq's own default is 10 s).
DEFAULT_TIMEOUTS_S: dict[str, int] = {
    "analysis": 600,
    "mixing": 1_200,
    "mastering": 900,
    "coaching": 600,
    "export": 1_800,
}

ProgressCallback = Callable[[float], Awaitable[None]]
"""Reports a running job's progress, 0 to 1."""

JobStatusName = Literal["queued", "running", "done", "failed"]


class JobInputError(AudioError):
    """A job cannot start: its inputs are missing or wrong (no tracks, unknown asset...)."""


class JobLimitError(AudioError):
    """A job went over a limit (its kind's time limit, the memory limit, its requester's
    storage quota) and was stopped."""


class JobRefusedError(AudioError):
    """A job was not admitted: its requester is rate limited, has too many jobs queued or
    running, or cannot be told. ``retry_after_s`` says when asking again may work;
    ``limit`` names the limit reached ("20 active jobs"), when one was."""

    def __init__(
        self, message: str, *, retry_after_s: int | None = None, limit: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.limit = limit


class WorkerCrashedError(AudioError):
    """The process running a job died without being told to (a crash, the OOM killer);
    the attempt may be retried."""


@dataclass(frozen=True, slots=True)
class JobTicket:
    """Everything needed to run one job, resolved from the document when it was claimed.

    ``inputs`` holds asset ids and track settings (JSON); ``input_hash`` covers
    kind, params and inputs, so equal tickets may share one result.
    """

    job_id: str
    project_id: str
    kind: str
    params: dict[str, Any]
    inputs: dict[str, Any]
    requested_by: str = ""
    input_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.input_hash:
            canonical = json.dumps(
                [self.kind, self.params, self.inputs], sort_keys=True, separators=(",", ":")
            )
            object.__setattr__(self, "input_hash", hashlib.sha256(canonical.encode()).hexdigest())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobTicket:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ended: ``result`` (JSON, asset ids and figures) or ``error`` for the user."""

    status: Literal["done", "failed"]
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StoredAsset:
    """An asset's local copy for a job: where it is and what the database says about it."""

    asset_id: str
    path: Path
    kind: str
    filename: str


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """The database's view of a job (its status is the truth for claims)."""

    job_id: str
    status: JobStatusName
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    #: The actor the job counts against (``user:<id>``, ``apikey:<id>``; "" if unknown).
    requested_by: str = ""


class AssetStore(Protocol):
    """Assets in the object store and their database rows."""

    async def fetch(self, project_id: str, asset_id: str, directory: Path) -> StoredAsset:
        """Download an asset of ``project_id`` into ``directory``; raises JobInputError."""
        ...

    async def add(
        self,
        project_id: str,
        path: Path,
        *,
        kind: str,
        filename: str,
        content_type: str,
        audio: dict[str, Any] | None,
        created_by: str | None,
    ) -> str:
        """Store a produced file as a new asset; returns its id. ``audio`` holds
        ``duration_s``, ``sample_rate`` and ``channels`` for audio files."""
        ...

    async def put_sidecar(self, asset_id: str, suffix: str, path: Path) -> None:
        """Store derived data (waveform peaks, analysis JSON) next to an asset."""
        ...


class JobLedger(Protocol):
    """Job rows in the database: the claims that keep two runners off one job."""

    async def ensure(self, ticket: JobTicket) -> LedgerRow:
        """The job's row, inserted as queued when missing (safe to race)."""
        ...

    async def admit(self, ticket: JobTicket, max_active: int) -> LedgerRow | None:
        """:meth:`ensure`, but a new row is inserted only while ``ticket.requested_by`` has
        fewer than ``max_active`` queued or running jobs (settled by the database);
        None when refused."""
        ...

    async def count_active(self, requested_by: str) -> int:
        """How many jobs of ``requested_by`` are queued or running."""
        ...

    async def claim(self, job_id: str) -> bool:
        """Atomically move the row queued -> running (attempts + 1); False if not queued."""
        ...

    async def get(self, job_id: str) -> LedgerRow | None: ...

    async def find_done(self, project_id: str, kind: str, input_hash: str) -> LedgerRow | None:
        """A finished job with the same inputs, whose result may be reused."""
        ...

    async def set_progress(self, job_id: str, progress: float) -> None: ...

    async def finish(self, job_id: str, result: dict[str, Any]) -> bool:
        """running -> done with ``result``; False when the row was not running."""
        ...

    async def fail(self, job_id: str, error: str) -> bool:
        """queued|running -> failed with ``error``; False when it was final already."""
        ...

    async def requeue_orphans(self, max_attempts: int) -> tuple[int, int]:
        """After a crash: running rows back to queued below ``max_attempts``, the rest
        failed. Returns (requeued, failed)."""
        ...

    async def projects_to_sweep(self) -> list[str]:
        """Projects with unfinished or recently finished jobs (their documents are checked)."""
        ...


class JobRunner(Protocol):
    """Where jobs execute. ``run`` returns once the outcome is recorded in the ledger."""

    async def run(self, ticket: JobTicket, progress: ProgressCallback) -> JobOutcome:
        """Execute a claimed job; a bad input is a failed outcome, never an exception."""
        ...

    async def attach(self, ticket: JobTicket) -> JobOutcome | None:
        """Wait for a job another process claimed; None when nobody can be waited on."""
        ...


class JobAdmission(Protocol):
    """Limits a job written straight into a document must pass, like a REST request
    (the AI rate limit per actor); ``api`` implements it over its rate limits."""

    async def admit(self, actor: str, project_id: str, kind: str) -> None:
        """Count one ``kind`` job ``actor`` asked for; raise :class:`JobRefusedError`."""
        ...


class WatchedRoom(Protocol):
    """A loaded room: its name (the project id), live document, and unload event."""

    name: str
    doc: pycrdt.Doc[Any]
    evicted: anyio.Event


class DocumentHost(Protocol):
    """Rooms as the job runner sees them (:class:`collab.server.RoomServer`)."""

    def document(
        self, room_name: str, *, origin: str
    ) -> AbstractAsyncContextManager[pycrdt.Doc[Any]]: ...

    def add_room_listener(self, listener: Callable[[Any], None]) -> None: ...
