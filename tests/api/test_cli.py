from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jacameno.api.cli import EXIT_CONFIG, main
from jacameno.api.db.migrate import head_revision


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("JACAMENO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "jacameno.api.cli", *args],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_db_upgrade_creates_the_embedded_database(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"database at revision {head_revision()}" in result.stdout
    assert (tmp_path / "var" / "jacameno.db").is_file()


def test_bad_setting_stops_with_a_message_naming_it(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path, JACAMENO_DATABASE_URL="mysql://nope")
    assert result.returncode == EXIT_CONFIG
    assert "JACAMENO_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path, JACAMENO_ENV="production")
    assert result.returncode == EXIT_CONFIG
    assert "JACAMENO_SECRET_KEY" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["fly"])
    assert caught.value.code == 2


def test_serve_names_an_unknown_variable_at_start_up(tmp_path: Path) -> None:
    # An unmigrated database without auto-migration stops `serve` right after start-up.
    result = run_cli(
        "serve",
        cwd=tmp_path,
        JACAMENO_AUTO_MIGRATE="false",
        JACAMENO_RATE_LIMIT_ENABLED="false",
    )
    assert result.returncode != 0
    assert (
        "JACAMENO_RATE_LIMIT_ENABLED is not a JACAMENO setting and is ignored;"
        " did you mean JACAMENO_RATE_LIMITS_ENABLED?"
    ) in result.stderr
