"""What every `printstash` subcommand shares: settings from the environment, the database of
an installed vault, and domain errors as one clear line. Domain command modules
(backups/cli.py, core/maintenance_cli.py) build on this; cli.py puts them together."""

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeAlias

from pydantic import ValidationError

from printstash.core.db import Database
from printstash.core.errors import DomainError, Invalid
from printstash.core.logging import configure
from printstash.core.settings import Settings

EXIT_FAILED = 1
EXIT_CONFIG = 2

# argparse has no public name for what add_subparsers() returns (nor is it subscriptable at run time)
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Command = Callable[[Settings, argparse.Namespace], None]


def load_settings() -> Settings:
    """Settings from the environment; a bad value is one clear line and exit 2."""
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "VAULT_" + str(err["loc"][0]).upper() if err["loc"] else "configuration"
        print(f"printstash: invalid configuration: {name}: {err['msg']}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def with_settings(func: Command) -> Callable[[argparse.Namespace], None]:
    """Load settings, run, and turn a domain error into one clear line and exit 1."""
    def run(args: argparse.Namespace) -> None:
        settings = load_settings()
        configure("WARNING")
        try:
            func(settings, args)
        except DomainError as exc:
            print(f"printstash {args.command}: error: {exc.detail}", file=sys.stderr)
            sys.exit(EXIT_FAILED)
    return run


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The vault's database; a missing SQLite file is an error, not a new empty database."""
    path = settings.sqlite_path
    if path is not None and not path.exists():
        raise Invalid(f"no database at {path}; check VAULT_DATA_DIR / VAULT_DB_URL (or run the migration "
                      "for a new install)", code="no_database")
    db = Database.from_settings(settings)
    try:
        yield db
    finally:
        db.dispose()
