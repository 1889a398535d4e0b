"""Build a migrated vault (data dir + database) the way an admin would: alembic upgrade.

With VAULT_TEST_DB=postgresql (harness/postgres.py) each new vault gets its own database on
the test PostgreSQL server, and migrating an empty one to head copies a template that a real
alembic upgrade migrated once.
"""

from pathlib import Path

from sqlalchemy import make_url

from alembic import command
from harness import postgres
from printstash.core.schema import alembic_config
from printstash.core.settings import Settings


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    if postgres.wanted() and "db_url" not in overrides:
        overrides["db_url"] = postgres.server().url(postgres.server().database_for(data_dir))
    return Settings(data_dir=data_dir, _env_file=None, **overrides)  # type: ignore[call-arg]


def migrate(settings: Settings, revision: str = "head") -> None:
    name = _pg_database(settings)
    if name is not None and revision == "head" and postgres.server().is_empty(name):
        postgres.migrated_template(lambda url: command.upgrade(alembic_config(
            make_settings(settings.data_dir, db_url=url)), "head"))
        postgres.server().replace_with_template(name)
        return
    command.upgrade(alembic_config(settings), revision)


def _pg_database(settings: Settings) -> str | None:
    """The test server's database name when this vault lives on it."""
    if not postgres.wanted() or not settings.database_url.startswith("postgresql"):
        return None
    return make_url(settings.database_url).database


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
