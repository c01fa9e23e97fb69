"""One typed settings object for the whole product.

Every value comes from the environment with the ``JACAMENO_`` prefix (or from
keyword arguments in tests). :func:`load_settings` validates once at start-up;
a bad value raises :class:`SettingsError` whose message names the variable.
"""

from __future__ import annotations

import difflib
import secrets
from collections.abc import Mapping
from enum import StrEnum
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from jacameno.api.sign_in_settings import SignInSettings

ENV_PREFIX = "JACAMENO_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/jacameno.db"
DEFAULT_STORAGE_URL = "file://./var/storage"
#: Values that must never be accepted as a production secret.
PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "dev", "development", "jacameno", "please-change-me"}
)
MIN_SECRET_LENGTH = 32
JobRunnerKind = Literal["auto", "process", "saq"]


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable and the fix."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class LogFormat(StrEnum):
    #: Console lines on a terminal outside production, JSON lines otherwise.
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class S3Encryption(StrEnum):
    AES256 = "AES256"
    KMS = "aws:kms"


class Settings(SignInSettings):
    """Validated configuration. Field ``foo_bar`` is read from ``JACAMENO_FOO_BAR``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, validate_default=True
    )

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("./var")
    #: The built browser client served at ``/`` (``npm run build`` in ``web/`` writes it).
    web_dist: Path = Path(__file__).resolve().parent.parent / "web" / "dist"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Public base URL of this server, used in links it hands out (presigned local files).
    public_url: str = ""

    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = Field(default=10, ge=1, le=500)
    redis_url: str | None = None
    storage_url: str = DEFAULT_STORAGE_URL
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_encryption: S3Encryption | None = None
    s3_kms_key_id: str | None = None

    secret_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    #: The chat model asked for lyrics when ``openai_api_key`` is set (any model the
    #: server at ``openai_base_url`` serves).
    openai_model: str = "gpt-4o-mini"
    #: Seconds each OpenAI call may take, and further attempts after a 429/5xx/timeout.
    openai_timeout_s: float = Field(default=20.0, gt=0, le=300)
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    #: Ask for the answer streamed (servers and gateways that only stream).
    openai_stream: bool = False
    #: Where the AI memory's vectors live: a folder, or any lancedb URI (``s3://...``);
    #: unset: ``<data_dir>/memory``.
    lancedb_uri: str | None = None
    #: The General MIDI SoundFont (.sf2) MIDI tracks are played with, on the server and in
    #: the browser (``GET /api/v1/soundfont``); unset: Debian's TimGM6mb (make synth-deps).
    #: Read from the environment by the render processes too.
    soundfont: str | None = None
    #: Load the lyrics embedding model at start (a broken install stops start-up); off:
    #: on first use (tests, which start a server per test).
    lyrics_warm_up: bool = True
    #: Seconds after the last keystroke before the lyrics are analysed again.
    lyrics_analysis_delay_s: float = Field(default=1.0, ge=0.0, le=60.0)

    sentry_dsn: str | None = None
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.AUTO
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    #: Proxies (IPs or CIDR networks) whose X-Forwarded-For/-Proto are believed;
    #: empty: forwarding headers are ignored and the peer address is the client.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    #: Largest accepted request body outside uploads, in bytes.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    #: Largest accepted upload, in bytes.
    max_upload_bytes: int = Field(default=1_073_741_824, ge=1024)
    #: Seconds a presigned download link stays valid.
    presign_expiry_s: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    #: Run database migrations when ``serve`` starts (SQLite only; PostgreSQL uses ``db upgrade``).
    auto_migrate: bool = True

    #: Lifetime of an access token (JWT), in seconds.
    access_token_ttl_s: int = Field(default=900, ge=30, le=86_400)
    #: Lifetime of a refresh token, in seconds.
    refresh_token_ttl_s: int = Field(default=30 * 86_400, ge=60)
    #: Default lifetime of an invite, in seconds.
    invite_ttl_s: int = Field(default=7 * 86_400, ge=60)
    #: Argon2id cost: iterations and memory in KiB (tests lower them).
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65_536, ge=8, le=4_194_304)
    #: Rate limits in the ``limits`` notation ("N/second|minute|hour|day").
    #: ``auth_ip``: sign-ups, and failed log-ins, per client address (two counters).
    rate_limit_auth_ip: str = "20/minute"
    #: ``auth_account``: failed log-ins per account from one client address.
    rate_limit_auth_account: str = "10/minute"
    rate_limit_ai_user: str = "30/hour"
    #: ``lyrics_user``: lyrics suggestions and rewrites per caller (cheap offline, so
    #: more than the audio jobs of ``ai_user``).
    rate_limit_lyrics_user: str = "240/hour"
    rate_limit_ws_connect_ip: str = "120/minute"
    #: ``upload_user``: track uploads per caller (user or API key).
    rate_limit_upload_user: str = "120/hour"
    #: Turn every rate limit off (benchmarks on loopback).
    rate_limits_enabled: bool = True
    #: Delay before answering a log-in to an account that failed recently (from any
    #: address): this many seconds after one failure, doubling with each further one.
    login_delay_step_s: float = Field(default=0.25, ge=0.0, le=10.0)
    #: Longest such delay, in seconds: an attacker slows the owner down, never locks them out.
    login_delay_max_s: float = Field(default=4.0, ge=0.0, le=60.0)
    #: Seconds an account's failed log-ins are remembered for that delay.
    login_failure_window_s: int = Field(default=900, ge=1, le=86_400)

    #: Largest collaboration message in bytes; larger ones close the socket with 1009.
    #: A whole offline backlog arrives as one message, so this is generous on purpose.
    collab_max_message_bytes: int = Field(default=32 * 1024 * 1024, ge=64 * 1024)
    #: Frames a slow client may have queued before it is disconnected (code 4408).
    collab_send_queue_messages: int = Field(default=4096, ge=16)
    #: Seconds an empty room stays in memory before it is flushed and unloaded.
    collab_room_grace_s: float = Field(default=10.0, ge=0.0)
    #: Compact a room's update log into its snapshot past this many updates.
    collab_compact_after_updates: int = Field(default=500, ge=1)
    #: Negotiate permessage-deflate on collaboration sockets (off: lower latency).
    collab_ws_deflate: bool = False
    #: Write relayed frames straight to uvicorn's transport (api/ws_direct.py); off: every
    #: frame goes through ASGI. Tested with the uvicorn range pyproject.toml pins.
    collab_direct_frames: bool = True

    #: Longest accepted audio upload, in seconds (read from the file's header).
    max_audio_duration_s: float = Field(default=3600.0, gt=0.0, le=24 * 3600.0)
    #: Where audio jobs run: ``process`` (a process pool in ``serve``), ``saq``
    #: (``jacameno worker`` processes on Redis) or ``auto`` (saq when Redis is set).
    job_runner: JobRunnerKind = "auto"
    #: Worker processes of the in-process pool (and concurrency of a saq worker).
    job_workers: int = Field(default=2, ge=1, le=64)
    #: Attempts a job gets when its worker dies (crash, timeout) before it fails.
    job_max_attempts: int = Field(default=3, ge=1, le=10)
    #: Warm each job process up (imports and native libraries) before its first job.
    job_warm_up: bool = True
    #: Resident memory of one job's worker process, in MB (0: no limit); a job past
    #: it is killed and fails. A warmed-up worker uses about 210 MB before any job.
    job_max_memory_mb: int = Field(default=2048, ge=0)
    #: Jobs one requester (user or API key) may have queued or running at once;
    #: more are refused (429, or a failed entry for a job written in the document).
    job_max_active_per_user: int = Field(default=20, ge=1, le=10_000)
    #: Bytes of assets one user may store (uploads and job renders), in MB (0: no quota).
    storage_quota_mb_per_user: int = Field(default=10_240, ge=0)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise ValueError(
                "must start with sqlite+aiosqlite:/// or postgresql+asyncpg://"
                f" (got scheme {scheme or 'none'!r})"
            )
        return value

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme == "file":
            if not (parts.netloc + parts.path):
                raise ValueError("file:// needs a folder, e.g. file://./var/storage")
        elif parts.scheme == "s3":
            if not parts.netloc:
                raise ValueError("s3:// needs a bucket, e.g. s3://my-bucket")
        else:
            raise ValueError("must be file://FOLDER or s3://BUCKET[/PREFIX]")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator(
        "rate_limit_auth_ip",
        "rate_limit_auth_account",
        "rate_limit_ai_user",
        "rate_limit_lyrics_user",
        "rate_limit_ws_connect_ip",
        "rate_limit_upload_user",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit like '10/minute'") from None
        return value

    @field_validator("job_max_memory_mb")
    @classmethod
    def _check_job_memory(cls, value: int) -> int:
        if 0 < value < 256:
            raise ValueError(
                "must be 0 (no limit) or at least 256: a job worker uses about 210 MB idle"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        proxies = []
        for item in value:
            try:
                # A bare address stays one; a network is normalised (10.0.0.1/8 -> 10.0.0.0/8).
                network = ip_network(str(item).strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address or CIDR network (e.g. 10.0.0.0/8);"
                    " to trust every peer, write 0.0.0.0/0,::/0"
                ) from None
            single = network.prefixlen == network.max_prefixlen and "/" not in str(item)
            proxies.append(str(network.network_address) if single else str(network))
        return tuple(proxies)

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            secret = self.secret_key.get_secret_value() if self.secret_key else ""
            if secret.lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    "JACAMENO_SECRET_KEY must be set to a random value in production"
                    " (generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"JACAMENO_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
                    " in production"
                )
        if self.job_runner == "saq" and not self.redis_url:
            raise ValueError("JACAMENO_JOB_RUNNER=saq needs JACAMENO_REDIS_URL")
        if self.s3_encryption is S3Encryption.KMS and not self.s3_kms_key_id:
            raise ValueError(
                "JACAMENO_S3_KMS_KEY_ID is required when JACAMENO_S3_ENCRYPTION=aws:kms"
            )
        return self

    @property
    def memory_uri(self) -> str:
        """Where the AI memory lives (``lancedb_uri``, or a folder under ``data_dir``)."""
        return self.lancedb_uri or str(self.data_dir / "memory")

    @property
    def uses_saq(self) -> bool:
        """Jobs go to saq workers (``job_runner`` saq, or auto with Redis set)."""
        return self.job_runner == "saq" or (self.job_runner == "auto" and bool(self.redis_url))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secret(self) -> str:
        """The signing secret; call :func:`load_settings` first so that one is always set."""
        if self.secret_key is None:
            raise SettingsError(
                "JACAMENO_SECRET_KEY is not set; build settings with load_settings()"
            )
        return self.secret_key.get_secret_value()

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


#: ``JACAMENO_*`` variables that are not server settings: the bot example's and API
#: clients' own (URL, PROJECT, API_KEY), the web client's dev server (DEV_BACKEND) and
#: the test suite's (REQUIRE_SERVICES, TEST_*, BENCH_*).
OTHER_VARIABLES = frozenset(
    {"JACAMENO_URL", "JACAMENO_PROJECT", "JACAMENO_API_KEY", "JACAMENO_DEV_BACKEND"}
    | {"JACAMENO_REQUIRE_SERVICES"}
)
OTHER_PREFIXES = ("JACAMENO_TEST_", "JACAMENO_BENCH_")


def unknown_variables(environ: Mapping[str, str]) -> dict[str, str | None]:
    """``JACAMENO_*`` names in `environ` that no setting reads, each with the closest
    setting's variable (a likely misspelling) or None."""
    known = [name.upper() for name in Settings.model_fields]
    unknown: dict[str, str | None] = {}
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in OTHER_VARIABLES:
            continue
        suffix = upper.removeprefix(ENV_PREFIX)
        if suffix in known or upper.startswith(OTHER_PREFIXES):
            continue
        close = difflib.get_close_matches(suffix, known, n=1, cutoff=0.8)
        unknown[name] = ENV_PREFIX + close[0] if close else None
    return unknown


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["loc"]:
            field = ".".join(str(part) for part in item["loc"])
            message = f"{ENV_PREFIX}{field.upper()}: {message}"
        lines.append(message)
    return "invalid configuration: " + "; ".join(lines)


def _dev_secret(data_dir: Path) -> SecretStr:
    """Read or create the development secret kept at ``DATA_DIR/secret_key``."""
    path = data_dir / "secret_key"
    if path.exists():
        return SecretStr(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return SecretStr(value)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings from the environment, overridden by keyword arguments.

    Raises :class:`SettingsError` naming the offending variable. Outside production a
    missing secret is generated once and kept under ``DATA_DIR/secret_key``.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
    if settings.secret_key is None:
        settings = settings.model_copy(update={"secret_key": _dev_secret(settings.data_dir)})
    return settings
