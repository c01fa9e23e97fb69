"""Structured logs (structlog, JSON), Prometheus metrics and optional Sentry reporting."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from api.settings import LogFormat, Settings

#: Query parameters whose values never reach a log line.
_SECRET_PARAMS = re.compile(
    r"((?:^|[?&\s])(?:token|access_token|api_key|signature)=)[^&\s\"']*", re.I
)


def redact_query(query: str) -> str:
    """Replace the values of token-like query parameters with ``[redacted]``."""
    return _SECRET_PARAMS.sub(r"\1[redacted]", query)


def _redact_secrets(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Strip token values from every string field (uvicorn logs WebSocket paths with queries)."""
    for key, value in event_dict.items():
        if isinstance(value, str) and "=" in value:
            event_dict[key] = redact_query(value)
    return event_dict


def configure_logging(settings: Settings) -> None:
    """Route stdlib and structlog records through one JSON (or console) renderer.

    Logging is process-wide by nature; calling this again replaces the setup.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn's access log would repeat our request log without the request id.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def init_sentry(settings: Settings) -> bool:
    """Start Sentry error reporting when ``JACAMENO_SENTRY_DSN`` is set; else send nothing."""
    if not settings.sentry_dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.env.value,
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
    return True


class Metrics:
    """The application's Prometheus collectors, in a registry of its own (no globals)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "jacameno_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "jacameno_http_request_duration_seconds",
            "Time to answer an HTTP request, in seconds.",
            ["method", "route"],
            registry=self.registry,
        )
        self.websocket_connections = Gauge(
            "jacameno_websocket_connections",
            "Open collaboration WebSocket connections.",
            registry=self.registry,
        )
