"""Schema guard: api and worker never migrate; they refuse to start unless at head."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from printstash.core.db import driver_url
from printstash.core.settings import Settings

BACKEND_DIR = Path(__file__).resolve().parents[2]
ALEMBIC_INI = BACKEND_DIR / "alembic.ini"
MIGRATE_LOCAL = "cd backend && uv run alembic upgrade head"
MIGRATE_COMPOSE = "docker compose run --rm api uv run alembic upgrade head"


class SchemaStatus(StrEnum):
    CURRENT = "current"
    MISSING = "missing"  # no database file (or no alembic version table)
    BEHIND = "behind"
    AHEAD = "ahead"
    LEGACY = "legacy"  # default URL, only the early nexus3d.sqlite exists


@dataclass(frozen=True)
class SchemaState:
    status: SchemaStatus
    current: str | None
    head: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status is SchemaStatus.CURRENT


def alembic_config(settings: Settings | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(BACKEND_DIR / "alembic"))
    if settings is not None:
        config.attributes["settings"] = settings
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "alembic has no migrations"
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def legacy_message(settings: Settings) -> str | None:
    """The legacy guard: never start (or migrate) an empty database beside an early one."""
    path = settings.sqlite_path
    if not settings.db_url_is_default or path is None or path.exists():
        return None
    if not settings.legacy_db_path.exists():
        return None
    return (
        f"found an early PrintStash database at {settings.legacy_db_path} but no {path.name}; "
        "refusing to start on an empty database. Keep using the existing one by setting:\n"
        f"  VAULT_DB_URL=sqlite:///{settings.legacy_db_path}\n"
        "(in docker compose: VAULT_DB_URL=sqlite:////data/db/nexus3d.sqlite in the api and worker environment)"
    )


def current_revision(settings: Settings) -> str | None:
    path = settings.sqlite_path
    if path is not None and not path.exists():
        return None
    engine = create_engine(driver_url(settings.database_url))
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def schema_state(settings: Settings) -> SchemaState:
    head = head_revision()
    legacy = legacy_message(settings)
    if legacy:
        return SchemaState(SchemaStatus.LEGACY, None, head, legacy)
    current = current_revision(settings)
    if current == head:
        return SchemaState(SchemaStatus.CURRENT, current, head, f"schema is at head ({head})")
    if current is None:
        return SchemaState(SchemaStatus.MISSING, None, head, _migrate_hint("the database has no schema yet"))
    if current in known_revisions():
        return SchemaState(
            SchemaStatus.BEHIND, current, head,
            _migrate_hint(f"the database schema ({current}) is behind this version ({head})"),
        )
    return SchemaState(
        SchemaStatus.AHEAD, current, head,
        f"the database schema ({current}) is newer than this version of PrintStash (head {head}); "
        "it was upgraded by a newer release. Run that newer image again, or roll back by restoring "
        "the backup taken before the upgrade (printstash backup restore FILE) and then running this version.",
    )


def _migrate_hint(reason: str) -> str:
    return (
        f"{reason}. PrintStash never migrates by itself; run the migration first:\n"
        f"  {MIGRATE_LOCAL}\n"
        f"  or, with docker compose: {MIGRATE_COMPOSE}"
    )
