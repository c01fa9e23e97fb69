"""One client's burst of 50,000 separate edits does not stall anyone else.

Runs the burst benchmark's scenario (bench/bench_burst.py) against ``jacameno
serve`` in its own process and asserts behaviour with wide margins: before,
``/healthz`` went unanswered for up to 46 s and every room froze for 16-36 s
while the burst was compacted. The benchmark prints the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_burst import measure

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
async def test_a_burst_of_50000_edits_stalls_nobody() -> None:
    result = await measure(REPO, 50_000, idle_s=1.0)
    assert result["compactions"] >= 1
    for phase in ("ingesting", "compacting"):
        assert result[phase]["healthz"]["max_ms"] < 1_000, result
        assert result[phase]["fanout"]["max_ms"] < 2_000, result
    assert result["fresh_sync_ms"] < 2_000, result
