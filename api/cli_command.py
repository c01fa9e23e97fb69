"""How an audio command of the ``jacameno`` script runs: progress, output, exit status.

:func:`command` wraps a command's work (a function from the parsed arguments
to a dict of figures) into an argparse handler: a progress bar on stderr while
it runs, then the figures as a table or as one JSON object on stdout. Errors
become one line on stderr and an exit status: :class:`UsageError` exits with
:data:`EXIT_USAGE` (as argparse does), and what the audio services refuse
(:class:`~audio_services.errors.AudioError`, an unreadable file) with
:data:`EXIT_BAD_INPUT`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from jacameno.audio_services.errors import AudioError

if TYPE_CHECKING:
    from jacameno.audio_services.audio_io import WriteFormat
    from jacameno.audio_services.sinks import FileSink
    from jacameno.audio_services.sources import FileSource

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_USAGE",
    "Steps",
    "UsageError",
    "command",
    "file_sink",
    "file_source",
    "finite",
    "naming",
    "output_format",
]

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
_FORMATS: dict[str, WriteFormat] = {".wav": "WAV", ".flac": "FLAC"}


class UsageError(Exception):
    """A command line that cannot work as given (exit status 2)."""


class Steps:
    """A rich progress bar on stderr that advances one named step at a time."""

    def __init__(self, progress: Progress, total: int) -> None:
        self._progress = progress
        self._task = progress.add_task("loading the audio services", total=total)
        self._started = False

    def __call__(self, description: str) -> None:
        """Mark the previous step done and show ``description`` as the current one."""
        self._progress.update(self._task, description=description, advance=int(self._started))
        self._started = True


@contextmanager
def _progress(total: int) -> Iterator[Steps]:
    """A transient progress bar on stderr, shown only when stderr is a terminal
    (a log or a pipe would keep every frame of it)."""
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
    with Progress(
        *columns,
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        yield Steps(bar, total)


def command(
    run: Callable[[argparse.Namespace, Steps], dict[str, Any]],
    render: Callable[[dict[str, Any]], Table],
    steps: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """A handler that runs ``run`` under a progress bar of ``steps(args)`` steps,
    prints its figures (``render`` makes the table), and maps errors to exit statuses."""

    def handler(args: argparse.Namespace) -> int:
        try:
            with _progress(steps(args)) as step:
                figures = run(args, step)
        except UsageError as exc:
            return _fail(args.command, exc, EXIT_USAGE)
        except (AudioError, OSError, ValueError) as exc:
            return _fail(args.command, exc, EXIT_BAD_INPUT)
        if args.json:
            sys.stdout.write(json.dumps(figures, indent=2, allow_nan=False) + "\n")
        else:
            Console().print(render(figures))
        return 0

    return handler


def _fail(command: str, exc: Exception, status: int) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"jacameno {command}: error: {message}", file=sys.stderr)
    return status


def naming(path: Path, exc: Exception) -> str:
    """``exc``'s message, prefixed with ``path`` unless it names it already."""
    message = str(exc)
    return message if str(path) in message else f"{path}: {message}"


def file_source(path: Path) -> FileSource:
    """A file read block by block (its limits checked now), with errors naming ``path``."""
    from jacameno.audio_services.sources import FileSource

    try:
        return FileSource(path)
    except AudioError as exc:
        raise type(exc)(naming(path, exc)) from exc


def file_sink(path: Path, sample_rate: int, channels: int) -> FileSink:
    """The output file, written block by block in the format its extension names (24-bit)."""
    from jacameno.audio_services.sinks import FileSink

    return FileSink(path, sample_rate, channels, format=output_format(path), subtype="PCM_24")


def output_format(path: Path) -> WriteFormat:
    """The file format ``path``'s extension names; a usage error for any other."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: the output must end in {' or '.join(_FORMATS)}")
    return fmt


def finite(value: float | None, digits: int = 2) -> float | None:
    """``value`` rounded, ``None`` for missing or non-finite (silence has no loudness)."""
    return None if value is None or not math.isfinite(value) else round(float(value), digits)
