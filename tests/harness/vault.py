"""Build a migrated vault (data dir + database) the way an admin would: alembic upgrade."""

from pathlib import Path

from alembic import command
from printstash.core.schema import alembic_config
from printstash.core.settings import Settings


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None, **overrides)  # type: ignore[call-arg]


def migrate(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)


def add_user_with_key(settings: Settings, username: str, role: str, password: str = "correct horse battery") -> str:
    """Create a user in a migrated vault and return a fresh API key of theirs."""
    from printstash.auth import service
    from printstash.core.db import Database

    database = Database.from_settings(settings)
    try:
        with database.write() as session:
            user = service.create_user(session, username, password, role)
            _, key = service.create_api_key(session, user, "tests")
    finally:
        database.dispose()
    return key
