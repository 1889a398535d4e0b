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
