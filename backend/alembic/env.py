"""Alembic environment: the URL comes from PrintStash settings; SQLite uses batch mode."""

import logging.config
import sys
from typing import Any

from pydantic import ValidationError
from sqlalchemy import pool

from alembic import context
from printstash.core.db import make_engine
from printstash.core.schema import legacy_message
from printstash.core.settings import Settings
from printstash.core.storage import private_files
from printstash.models import target_metadata

config = context.config
if config.config_file_name and not config.attributes.get("settings"):  # the alembic command
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
    private_files()  # it may create the database file: owner-only, like the api's files

# Tables and indexes owned by raw SQL in migrations (FTS5 virtual tables and their shadow
# tables; PostgreSQL's trigram index of names, 0013, and of live files, 0016_pgsearch).
EXCLUDED_PREFIXES = ("files_fts",)


def include_name(name: str | None, type_: str, _parents: dict[str, Any]) -> bool:
    return not (type_ in ("table", "index") and name is not None and name.startswith(EXCLUDED_PREFIXES))


def _settings() -> Settings:
    given = config.attributes.get("settings")
    if given is not None:
        return given  # type: ignore[no-any-return]
    try:
        return Settings()
    except ValidationError as exc:
        sys.exit(f"printstash: invalid configuration: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}")


def run_migrations() -> None:
    settings = _settings()
    legacy = legacy_message(settings)
    if legacy:
        sys.exit(f"printstash: {legacy}")
    if settings.sqlite_path is not None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
            compare_type=True,
            transactional_ddl=True,  # a failed migration rolls back whole
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    sys.exit("offline (--sql) migrations are not supported; run `uv run alembic upgrade head`")
run_migrations()
