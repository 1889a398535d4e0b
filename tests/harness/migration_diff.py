"""Print the alembic ops that would bring a database at head up to the models.

Each domain owns one pre-made migration file; with several people editing models at once,
`alembic revision --autogenerate` would add heads. Instead run
    cd backend && PYTHONPATH=../tests uv run python -m harness.migration_diff
copy your tables' ops into your migration file, and run it again until it prints nothing; or
let it append them:  ... harness.migration_diff --tables files,thumbnails --into alembic/versions/0002_library.py
"""

import argparse
import re
import tempfile
from pathlib import Path

from alembic.autogenerate import produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from harness.vault import make_settings, migrate
from printstash.models import target_metadata


def _only(ops, tables):  # type: ignore[no-untyped-def]
    if tables:
        ops.ops = [op for op in ops.ops if getattr(op, "table_name", None) in tables]
    return ops


def _into(path: Path, up: str, down: str) -> None:
    """Append the upgrade ops to upgrade(); put the downgrade ops first in downgrade()."""
    text = path.read_text()
    if "from alembic import op" not in text:
        imports = "import sqlalchemy as sa\nfrom alembic import op\n\nimport printstash.core.db\n"
        anchor = "from collections.abc import Sequence\n"
        text = text.replace(anchor, f"{anchor}\n{imports}", 1)
    clean = lambda code: "\n".join(line for line in code.splitlines() if "###" not in line).rstrip()  # noqa: E731
    text = re.sub(r"(def upgrade\(\) -> None:\n)    pass\n", r"\1", text)
    text = re.sub(r"(def downgrade\(\) -> None:\n)    pass\n", r"\1", text)
    head, _, downgrade = text.partition("\n\ndef downgrade() -> None:\n")
    text = f"{head.rstrip()}\n{clean(up)}\n\n\ndef downgrade() -> None:\n{clean(down)}\n{downgrade}"
    path.write_text(text.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", default="", help="comma-separated table names to keep")
    parser.add_argument("--into", type=Path, help="migration file to append the ops to")
    args = parser.parse_args()
    tables = {t for t in args.tables.split(",") if t}
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp))
        migrate(settings)
        engine = create_engine(settings.database_url)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "render_as_batch": True, "compare_type": True,
                "include_name": lambda name, type_, _p: not (type_ in ("table", "index")
                                                             and str(name).startswith("files_fts")),
            })
            script = produce_migrations(ctx, target_metadata)
            _only(script.upgrade_ops, tables)
            _only(script.downgrade_ops, tables)
        engine.dispose()
    if script.upgrade_ops is None or script.upgrade_ops.is_empty():
        print("# models and migrations agree")
        return
    up = render_python_code(script.upgrade_ops, render_as_batch=True)
    assert script.downgrade_ops is not None
    down = render_python_code(script.downgrade_ops, render_as_batch=True)
    if args.into:
        _into(args.into, up, down)
        print(f"# appended to {args.into}")
    else:
        print("# upgrade\n" + up + "\n# downgrade\n" + down)


if __name__ == "__main__":
    main()
