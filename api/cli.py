"""The ``jacameno`` command line."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

import anyio

from jacameno.api.cli_audio import add_audio_commands
from jacameno.api.cli_export import add_export_command
from jacameno.api.settings import SettingsError, load_settings

#: Exit status for a configuration error.
EXIT_CONFIG = 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from jacameno.api.app import create_app, uvicorn_proxy_options, uvicorn_ws_options
    from jacameno.api.observability import configure_logging, warn_unknown_variables

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = load_settings(**overrides)
    configure_logging(settings)
    warn_unknown_variables()
    if not (settings.is_sqlite and settings.auto_migrate):
        # The lifespan checks too; checking first keeps a refusal to one line (no
        # uvicorn start-up chatter). Auto-migrated SQLite is brought to head there.
        anyio.run(_require_current_schema, settings.database_url)
    app = create_app(settings)
    # ~200,000 objects exist after start-up (numpy, scipy, pedalboard...): a full
    # collection over them took 108 ms here, a latency spike for every peer. Freeze
    # them out of the collector's generations; only objects made later are scanned.
    gc.collect()
    gc.freeze()
    print(f"JACAMENO serving on {settings.base_url}  (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        lifespan="on",
        server_header=False,
        **uvicorn_proxy_options(settings),
        **uvicorn_ws_options(settings),
    )
    return 0


async def _require_current_schema(url: str) -> None:
    from jacameno.api.db.engine import create_engine
    from jacameno.api.db.migrate import require_current_schema

    engine = create_engine(url)
    try:
        await require_current_schema(engine)
    finally:
        await engine.dispose()


def _db(args: argparse.Namespace) -> int:
    from jacameno.api.db import migrate

    settings = load_settings()
    if args.action == "upgrade":
        anyio.run(migrate.upgrade, settings.database_url, args.revision or "head")
        anyio.run(_sync_catalog, settings.database_url)
    elif args.action == "downgrade":
        anyio.run(migrate.downgrade, settings.database_url, args.revision or "base")
    revision = anyio.run(migrate.current_revision, settings.database_url)
    print(f"database at revision {revision or 'none'} (head {migrate.head_revision()})")
    return 0


async def _sync_catalog(url: str) -> None:
    from jacameno.api.db import Database
    from jacameno.api.db.catalog import sync_plugin_catalog

    database = Database(url)
    try:
        count = await sync_plugin_catalog(database)
    finally:
        await database.aclose()
    print(f"plugin catalog: {count} plugins")


def _worker(args: argparse.Namespace) -> int:
    from jacameno.api.observability import configure_logging, warn_unknown_variables
    from jacameno.api.worker import run_worker

    settings = load_settings()
    configure_logging(settings)
    warn_unknown_variables()
    print("JACAMENO job worker (Ctrl+C to stop)", file=sys.stderr)
    anyio.run(run_worker, settings)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from jacameno.api.demo import create_demo
    from jacameno.api.observability import configure_logging

    settings = load_settings(log_level="WARNING")
    configure_logging(settings)
    result = anyio.run(create_demo, settings)
    state = "created" if result.created else "already there"
    print(
        f"Demo project {state}: sign in at {settings.base_url} as {result.email}"
        f" / {result.password} (project id {result.project_id})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jacameno", description="JACAMENO: real-time collaboration for making music together."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the whole product (API, collaboration, web)")
    serve.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser(
        "demo", help="create a demo account and a project with generated stems"
    )
    demo.set_defaults(handler=_demo)

    worker = commands.add_parser("worker", help="run audio jobs from the Redis queue (scale-out)")
    worker.set_defaults(handler=_worker)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", default=None)
    db.set_defaults(handler=_db)

    add_audio_commands(commands)
    add_export_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jacameno`` console script."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except SettingsError as exc:
        print(f"jacameno: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
