"""The settings every PostgreSQL connection gets (core/db.py POSTGRESQL_SETTINGS): planned for
each call's values, as search's filters need (a generic plan read every PETG file for a text
query with two filters), and no JIT compiling."""

import pytest
from sqlalchemy import text

from printstash.core.db import Database

pytestmark = pytest.mark.postgresql
EXPECTED = {"plan_cache_mode": "force_custom_plan", "jit": "off"}


def test_every_connection_plans_per_call_without_jit(db: Database) -> None:
    for session_factory in (db.read, db.write, db.read):  # pooled connections, used again
        with session_factory() as session:
            assert {name: session.execute(text(f"SHOW {name}")).scalar_one() for name in EXPECTED} == EXPECTED


def test_settings_outlast_a_rolled_back_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.read() as session:
        session.execute(text("SELECT 1"))
        raise RuntimeError("rolled back")
    with db.read() as session:
        assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
