"""The server's real logging configuration, written to a string for a test to read."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from jacameno.api.observability import configure_logging
from jacameno.api.settings import LogFormat, Settings

_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@contextmanager
def captured_logs(settings: Settings) -> Iterator[io.StringIO]:
    """Apply :func:`api.observability.configure_logging` (JSON lines) into a ``StringIO``.

    Logging is process-wide, so the previous setup is put back afterwards.
    """
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in _LOGGERS
    }
    saved_structlog = structlog.get_config()
    stream = io.StringIO()
    configure_logging(settings.model_copy(update={"log_format": LogFormat.JSON}), stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved_root
        root.setLevel(level)
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
        structlog.configure(**saved_structlog)


def log_records(stream: io.StringIO) -> list[dict[str, Any]]:
    """The JSON records written so far (every line must be one)."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def tracebacks(stream: io.StringIO) -> int:
    """How many records of the log carry a traceback (a chained one counts once)."""
    return sum("exception" in record for record in log_records(stream))
