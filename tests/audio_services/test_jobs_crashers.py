"""Compute functions that kill their worker process (imported by spawned pool workers,
so this module stays free of heavy imports)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def crash_once(kind: str, params: dict[str, Any], inputs: dict[str, Any], *_: Any) -> Any:
    """Kill the worker process the first time (a marker file remembers), then succeed."""
    marker = Path(inputs["marker"])
    if not marker.exists():
        marker.write_text("crashed")
        os._exit(1)
    return {"result": {"ok": True}, "outputs": [], "sidecars": []}


def crash_always(*_: Any) -> Any:
    os._exit(1)
