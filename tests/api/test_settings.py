from __future__ import annotations

import io
from pathlib import Path

import pytest

from jacameno.api.observability import resolved_log_format
from jacameno.api.settings import (
    DEFAULT_DATABASE_URL,
    Environment,
    LogFormat,
    SettingsError,
    load_settings,
    unknown_variables,
)

STRONG = "s" * 48


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.storage_url.startswith("file://")
    assert settings.redis_url is None
    assert settings.env is Environment.DEVELOPMENT


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path / "var")
    second = load_settings(data_dir=tmp_path / "var")
    assert len(first.secret) >= 32
    assert first.secret == second.secret
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JACAMENO_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("JACAMENO_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("JACAMENO_PORT", "9001")
    settings = load_settings(data_dir=tmp_path)
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.port == 9001


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("JACAMENO_DATABASE_URL", "mysql://root@localhost/x"),
        ("JACAMENO_STORAGE_URL", "ftp://example.com/x"),
        ("JACAMENO_STORAGE_URL", "s3://"),
        ("JACAMENO_REDIS_URL", "http://127.0.0.1:6379"),
        ("JACAMENO_PORT", "not-a-port"),
        ("JACAMENO_PORT", "70000"),
        ("JACAMENO_ENV", "staging"),
        ("JACAMENO_LOG_LEVEL", "LOUD"),
        ("JACAMENO_MAX_BODY_BYTES", "-1"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(data_dir=tmp_path)
    assert variable in str(caught.value)


@pytest.mark.parametrize("secret", [None, "change-me", "secret", "short-but-not-default"])
def test_production_refuses_missing_default_or_weak_secret(
    tmp_path: Path, secret: str | None
) -> None:
    with pytest.raises(SettingsError, match="JACAMENO_SECRET_KEY"):
        load_settings(env="production", secret_key=secret, data_dir=tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_a_strong_secret(tmp_path: Path) -> None:
    settings = load_settings(env="production", secret_key=STRONG, data_dir=tmp_path)
    assert settings.secret == STRONG


def test_kms_encryption_needs_a_key_id(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="JACAMENO_S3_KMS_KEY_ID"):
        load_settings(s3_encryption="aws:kms", data_dir=tmp_path)


def test_a_misspelt_variable_is_named_with_the_setting_it_resembles() -> None:
    environ = {
        "JACAMENO_RATE_LIMIT_ENABLED": "false",  # the setting is RATE_LIMITS_ENABLED
        "JACAMENO_FLAVOUR": "x",
        "JACAMENO_PORT": "8001",
        "JACAMENO_REQUIRE_SERVICES": "1",
        "JACAMENO_TEST_PG_HOST": "127.0.0.1",
        "JACAMENO_API_KEY": "jmk_x",
        "PATH": "/usr/bin",
    }
    assert unknown_variables(environ) == {
        "JACAMENO_FLAVOUR": None,
        "JACAMENO_RATE_LIMIT_ENABLED": "JACAMENO_RATE_LIMITS_ENABLED",
    }


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("log_format", "env", "stream", "expected"),
    [
        ("auto", "development", _Terminal(), LogFormat.CONSOLE),
        ("auto", "development", io.StringIO(), LogFormat.JSON),
        ("auto", "production", _Terminal(), LogFormat.JSON),
        ("json", "development", _Terminal(), LogFormat.JSON),
        ("console", "development", io.StringIO(), LogFormat.CONSOLE),
    ],
)
def test_logs_are_console_lines_on_a_terminal_in_development_and_json_otherwise(
    tmp_path: Path, log_format: str, env: str, stream: io.StringIO, expected: LogFormat
) -> None:
    settings = load_settings(data_dir=tmp_path, log_format=log_format, env=env, secret_key=STRONG)
    assert resolved_log_format(settings, stream) is expected


PROVIDER = '{"name": "%s", "issuer": "%s", "client_id": "c", "client_secret": "s"}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "["
            + PROVIDER % ("kc", "https://id.example.com")
            + ","
            + PROVIDER % ("kc", "https://x")
            + "]",
            "same name",
        ),
        ("[" + PROVIDER % ("github", "https://id.example.com") + "]", "own settings"),
        ("[" + PROVIDER % ("Bad Name", "https://id.example.com") + "]", "a provider name"),
        ("[" + PROVIDER % ("kc", "id.example.com") + "]", "https:// URL"),
        ("{not json", "not JSON"),
    ],
)
def test_sign_in_providers_are_checked_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, message: str
) -> None:
    monkeypatch.setenv("JACAMENO_OIDC_PROVIDERS", value)
    with pytest.raises(SettingsError, match=message):
        load_settings(data_dir=tmp_path)


def test_empty_provider_and_mail_variables_are_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As docker-compose passes variables nobody set."""
    for name in ("OIDC_PROVIDERS", "SMTP_HOST", "GOOGLE_CLIENT_ID", "GITHUB_CLIENT_ID"):
        monkeypatch.setenv(f"JACAMENO_{name}", "")
    settings = load_settings(data_dir=tmp_path)
    assert settings.oidc_providers == ()
    assert not settings.smtp_host
    kc = PROVIDER % ("kc", "https://id.example.com/realms/music/")
    monkeypatch.setenv("JACAMENO_OIDC_PROVIDERS", f"[{kc}]")
    (provider,) = load_settings(data_dir=tmp_path).oidc_providers
    assert provider.issuer == "https://id.example.com/realms/music/"  # kept exactly
    assert provider.label == ""
