"""``jacameno export PROJECT --format stems|midi|dawproject [-o FILE]``: a project for
other tools.

``PROJECT`` is the id of a project on this server's database and storage (the
settings ``serve`` uses): its live document is read, its audio fetched, and the
export computed here, the same way an export job computes it, without a job entry.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from jacameno.api.settings import load_settings

__all__ = ["add_export_command"]

EXPORT_ORIGIN = "service:cli"


def add_export_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``export`` on the ``jacameno`` parser."""
    export = commands.add_parser(
        "export", help="export a project: stems as arranged (a zip), its MIDI, or a DAWproject"
    )
    export.add_argument("project", help="the project's id")
    export.add_argument("--format", default="stems", choices=["stems", "midi", "dawproject"])
    export.add_argument(
        "--audio-format", default="flac", choices=["flac", "wav"], help="stems' files (flac)"
    )
    export.add_argument(
        "-o", "--output", type=Path, default=None, help="file to write (default: in this folder)"
    )
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from jacameno.api.observability import configure_logging

    settings = load_settings(log_level="WARNING")
    configure_logging(settings)
    try:
        written = anyio.run(_run, settings, args)
    except _ExportError as exc:
        print(f"jacameno export: {exc}", file=sys.stderr)
        return 1
    print(written)
    return 0


class _ExportError(Exception):
    """The export cannot be made (the message says why)."""


async def _run(settings: Any, args: argparse.Namespace) -> Path:
    from jacameno.api.app import create_app
    from jacameno.api.asset_store import StoreAssetStore
    from jacameno.api.db.models import Project
    from jacameno.api.quota import StorageQuota
    from jacameno.api.services import AppServices
    from jacameno.audio_services.errors import AudioError
    from jacameno.audio_services.jobs.compute import compute
    from jacameno.audio_services.jobs.document import resolve_ticket
    from jacameno.audio_services.jobs.execute import input_asset_ids
    from jacameno.collab.errors import CollabError
    from jacameno.docs_model import ProjectDocument

    app = create_app(settings)
    params: dict[str, Any] = {"format": args.format}
    if args.format == "stems":
        params["audio_format"] = args.audio_format
    async with app.router.lifespan_context(app) as state:
        assert state is not None, "the application lifespan yields its services"
        services = state["services"]
        assert isinstance(services, AppServices)
        async with services.database.session() as session:
            if await session.get(Project, args.project) is None:
                raise _ExportError(f"there is no project {args.project} on this server")
        try:
            async with services.rooms.document(args.project, origin=EXPORT_ORIGIN) as doc:
                ticket = resolve_ticket(
                    ProjectDocument(doc), args.project, "cli-export", "export", params
                )
        except (AudioError, CollabError) as exc:
            raise _ExportError(str(exc)) from exc
        assets = StoreAssetStore(services.database, services.store, StorageQuota(0))
        with tempfile.TemporaryDirectory() as folder:
            files = {}
            for asset_id in input_asset_ids(ticket):
                stored = await assets.fetch(args.project, asset_id, Path(folder))
                files[asset_id] = str(stored.path)
            try:
                computed = await anyio.to_thread.run_sync(
                    compute,
                    "export",
                    ticket.params,
                    ticket.inputs,
                    files,
                    folder,
                    settings.max_audio_duration_s,
                )
            except AudioError as exc:
                raise _ExportError(str(exc)) from exc
            (output,) = computed["outputs"]
            target = args.output or Path(f"{args.project}-{output['filename']}")
            shutil.copyfile(output["path"], target)
    return Path(target)
