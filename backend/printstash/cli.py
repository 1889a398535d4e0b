"""The `printstash` command: serve | worker | check | backup … | maintenance … | storage … | db …"""

import argparse
import sys

from printstash import __version__, dbcopy
from printstash.backups import cli as backup_cli
from printstash.backups.restore import JOURNAL as RESTORE_JOURNAL
from printstash.core import maintenance_cli, storage_copy
from printstash.core.command import load_settings
from printstash.core.logging import configure as configure_logging
from printstash.core.logging import uvicorn_log_config
from printstash.core.schema import schema_state
from printstash.core.settings import Settings
from printstash.core.storage import private_files

EXIT_SCHEMA = 3


def require_current_schema(settings: Settings, process: str) -> None:
    """The schema guard shared by api and worker: never migrate, never run off head."""
    if (settings.data_dir / RESTORE_JOURNAL).exists():
        print(f"printstash {process}: refusing to start: a restore into {settings.data_dir} was interrupted; "
              "run `printstash backup restore` with the same archive again to finish it", file=sys.stderr)
        sys.exit(EXIT_SCHEMA)
    state = schema_state(settings)
    if not state.ok:
        print(f"printstash {process}: refusing to start: {state.message}", file=sys.stderr)
        sys.exit(EXIT_SCHEMA)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from printstash.app import create_app
    from printstash.core.httpserver import guarded_protocol

    settings = load_settings()
    configure_logging(settings.log_level)
    require_current_schema(settings, "api")
    # Open event streams must not keep a stopping api alive: 5 s, then connections are closed.
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=settings.log_level.lower(),
                timeout_graceful_shutdown=5, log_config=uvicorn_log_config(),
                http=guarded_protocol(settings.header_timeout_seconds, settings.body_idle_timeout_seconds))


def cmd_worker(_: argparse.Namespace) -> None:
    from printstash.worker.main import run

    settings = load_settings()
    configure_logging(settings.log_level)
    require_current_schema(settings, "worker")
    run(settings)


def cmd_check(_: argparse.Namespace) -> None:
    settings = load_settings()
    print(f"PrintStash {__version__}")
    for name, value in settings.masked().items():
        print(f"  {name}={value}")
    state = schema_state(settings)
    print(f"schema: {state.status.value} (database {state.current or 'none'}, head {state.head})")
    if not state.ok:
        print(state.message)
        sys.exit(EXIT_SCHEMA)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printstash", description="PrintStash, a vault for 3D-print files")
    parser.add_argument("--version", action="version", version=f"printstash {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP api (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run the worker (printers, backups, jobs)").set_defaults(func=cmd_worker)
    sub.add_parser("check", help="print the configuration and schema state").set_defaults(func=cmd_check)
    backup_cli.register(sub)
    maintenance_cli.register(sub)
    storage_copy.register(sub)
    dbcopy.register(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    private_files()
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
