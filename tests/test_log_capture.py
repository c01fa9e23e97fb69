"""pytest captures every log line: a server thread logging while pytest writes a result
does not print between the results (tests/conftest.py routes structlog to logging)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_NOISY_TESTS = """
import threading

import pytest
import structlog

log = structlog.get_logger("noisy")
stop = threading.Event()


def _chatter() -> None:
    while not stop.wait(0.0002):
        log.info("background chatter", n=1)
        log.warning("background warning")


@pytest.fixture(scope="session", autouse=True)
def chatter():
    thread = threading.Thread(target=_chatter, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


@pytest.mark.parametrize("i", range(200))
def test_quiet(i: int) -> None:
    assert i >= 0
"""


def test_log_lines_from_other_threads_stay_captured(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_configure\n")
    (tmp_path / "test_noisy.py").write_text(_NOISY_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = [line for line in result.stdout.splitlines() if "::test_quiet[" in line]
    assert len(results) == 200
    stray = [line for line in results if not re.search(r"PASSED\s+\[\s*\d+%\]$", line)]
    assert stray == []
    assert "background" not in result.stdout + result.stderr
