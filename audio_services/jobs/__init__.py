"""The job runner: turns ``jobs`` entries of a project document into results.

- :mod:`.protocol`: the seams (``JobRunner``, ``AssetStore``, ``JobLedger``,
  ``DocumentHost``, ``JobAdmission``) and the plain records that cross them
  (``JobTicket``, ``JobOutcome``).
- :mod:`.compute`: the DSP of each job kind, pure and synchronous (runs in a
  worker process: paths in, files and JSON out).
- :mod:`.execute`: one job end to end on whichever process runs it: fetch the
  inputs, compute off the event loop, store outputs, record the result.
- :mod:`.workers`: killable worker processes, with per-call time and memory limits.
- :mod:`.runners`: where ``execute`` runs: worker processes in the serve process,
  or (:mod:`.saq_runner`) saq workers on Redis, with worker processes of their own,
  progress forwarded to the serve process and one run of a job at a time.
- :mod:`.fairness`: fair turns across requesters for the job slots.
- :mod:`.document`: resolving a request into a ticket, and writing outcomes.
- :mod:`.coordinator`: watches documents, dispatches their jobs, takes requests.
- :mod:`.processing`: one job from admission and claim to its outcome in the document.
"""

from jacameno.audio_services.jobs.protocol import (
    DEFAULT_TIMEOUTS_S,
    JOB_ORIGIN,
    AssetStore,
    DocumentHost,
    JobAdmission,
    JobInputError,
    JobLedger,
    JobLimitError,
    JobOutcome,
    JobRefusedError,
    JobRunner,
    JobTicket,
    LedgerRow,
    StoredAsset,
    WorkerCrashedError,
)

__all__ = [
    "DEFAULT_TIMEOUTS_S",
    "JOB_ORIGIN",
    "AssetStore",
    "DocumentHost",
    "JobAdmission",
    "JobInputError",
    "JobLedger",
    "JobLimitError",
    "JobOutcome",
    "JobRefusedError",
    "JobRunner",
    "JobTicket",
    "LedgerRow",
    "StoredAsset",
    "WorkerCrashedError",
]
