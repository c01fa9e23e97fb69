"""Structured logs (structlog, JSON), Prometheus metrics and optional Sentry reporting.

Secrets never reach a log line, whatever their spelling: :func:`scrub` runs over
every string of every record (ours, uvicorn's, any library's). It judges query
parameters by their decoded name, blanks the invite token in its path, and
removes anything shaped like a secret this server issues (JWT access tokens,
``jmk_`` API keys, 43-character refresh and invite tokens), also when parts of
it are percent-encoded.
"""

from __future__ import annotations

import logging
import re
import string
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO
from urllib.parse import unquote_plus

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jacameno.api.settings import Environment, LogFormat, Settings, unknown_variables

REDACTED = "[redacted]"
#: A query parameter is a secret when its decoded name (lower case, letters and
#: digits only) ends with one of these: token, access_token, X-Amz-Signature, api_key, ...
_SECRET_NAME = re.compile(
    r"(token|key|secret|signature|sig|password|passwd|credential|credentials|auth)$"
)
#: ``name=value`` after ``?``, ``&``, ``;``, whitespace or at the start of a string.
_PARAM = re.compile(r"(?:(?<=[?&;\s])|^)([^=&;?#\s\"'<>]+)=([^&;#\s\"'<>]*)")
#: Path segments that are secrets: the invite token of ``/api/v1/invites/{token}/accept``.
_SECRET_PATH = re.compile(r"(/api/v1/invites/)[^/?#\s\"']+")
#: Secrets as this server issues them (api.auth.tokens): a JWT (header.payload[.signature]),
#: an API key, and ``secrets.token_urlsafe(32)`` refresh and invite tokens.
_SECRET_SHAPES = re.compile(
    r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"
    r"|jmk_[A-Za-z0-9_-]{8,}"
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
)
#: A percent-escape, possibly itself escaped (``%2574`` is ``%74`` is ``t``).
_ESCAPE = re.compile(r"%(?:25)*([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_MAX_DECODE_ROUNDS = 4


def _is_secret_name(name: str) -> bool:
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    return _SECRET_NAME.search(re.sub(r"[^a-z0-9]", "", name.lower())) is not None


def _redact_param(match: re.Match[str]) -> str:
    name = match[1]
    return f"{name}={REDACTED}" if _is_secret_name(name) else match[0]


def redact_query(query: str) -> str:
    """Replace the values of secret query parameters (judged by decoded name)."""
    return _PARAM.sub(_redact_param, query)


def _decode_unreserved(text: str) -> str:
    # Escaped letters, digits and -._~ mean the same as the plain characters (RFC 3986
    # 6.2.2.2); decoding only those undoes obfuscation without inventing new syntax.
    def decode(match: re.Match[str]) -> str:
        char = chr(int(match[1], 16))
        return char if char in _UNRESERVED else match[0]

    return _ESCAPE.sub(decode, text)


def scrub_text(text: str) -> str:
    """``text`` with every secret (by parameter name, path or shape) replaced by ``[redacted]``."""
    if "%" in text:
        decoded = _decode_unreserved(text)
        if decoded != text and _SECRET_SHAPES.search(decoded):
            text = decoded  # the plain form, so that the secret can be cut out whole
    if "=" in text:
        text = _PARAM.sub(_redact_param, text)
    text = _SECRET_PATH.sub(rf"\1{REDACTED}", text)
    return _SECRET_SHAPES.sub(REDACTED, text)


def scrub(value: Any) -> Any:
    """:func:`scrub_text` over every string in ``value``, through dicts, lists and tuples."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value


def _drop_color_message(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """uvicorn passes its message again with terminal colour codes; the record has it."""
    event_dict.pop("color_message", None)
    return event_dict


def _redact_secrets(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Scrub every field of a record (uvicorn logs WebSocket paths with their queries)."""
    for key, value in event_dict.items():
        event_dict[key] = scrub(value)
    return event_dict


def resolved_log_format(settings: Settings, stream: TextIO) -> LogFormat:
    """The format records are written in: ``auto`` is console lines on a terminal
    outside production, JSON lines otherwise (a file, a pipe, a log collector)."""
    if settings.log_format is not LogFormat.AUTO:
        return settings.log_format
    interactive = hasattr(stream, "isatty") and stream.isatty()
    if interactive and settings.env is not Environment.PRODUCTION:
        return LogFormat.CONSOLE
    return LogFormat.JSON


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route stdlib and structlog records through one JSON (or console) renderer.

    Records go to ``stream`` (standard error by default). Logging is process-wide
    by nature; calling this again replaces the setup.
    """
    stream = stream or sys.stderr
    log_format = resolved_log_format(settings, stream)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
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
            _drop_color_message,
            _redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
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


def warn_unknown_variables(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Log a warning naming each ``JACAMENO_*`` variable no setting reads (a misspelt one
    is otherwise silently ignored); returns the names."""
    import os

    unknown = unknown_variables(os.environ if environ is None else environ)
    log = structlog.get_logger("jacameno.settings")
    for name, close in unknown.items():
        hint = f"; did you mean {close}?" if close else ""
        log.warning(f"{name} is not a JACAMENO setting and is ignored{hint}", variable=name)
    return list(unknown)


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
        # Reports carry request URLs and log messages: the same scrubbing as the logs.
        before_send=lambda event, _hint: scrub(event),
        before_breadcrumb=lambda crumb, _hint: scrub(crumb),
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
