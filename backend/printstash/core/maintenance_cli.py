"""`printstash maintenance on|off|status`: the admin's switch for core/maintenance.py."""

import argparse

from printstash.core import maintenance
from printstash.core.command import Subparsers, open_database, with_settings
from printstash.core.settings import Settings


def register(sub: Subparsers) -> None:
    parser = sub.add_parser("maintenance", help="pause uploads and scheduled jobs (upgrades)")
    parser.add_argument("mode", choices=("on", "off", "status"))
    parser.add_argument("--message", default="", help="shown to uploaders while on")
    parser.set_defaults(func=with_settings(cmd_maintenance))


def cmd_maintenance(settings: Settings, args: argparse.Namespace) -> None:
    with open_database(settings) as db:
        if args.mode == "status":
            with db.read() as session:
                state = maintenance.status(session)
        else:
            with db.write() as session:
                state = maintenance.set_mode(session, args.mode == "on", args.message)
    _print(state)


def _print(state: maintenance.Mode) -> None:
    if not state.on:
        print("maintenance: off (uploads and scheduled jobs run normally)")
        return
    print(f"maintenance: on since {state.since} — uploads answer 503, scheduled jobs are paused")
    if state.message:
        print(f"  message: {state.message}")
