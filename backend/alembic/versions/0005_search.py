"""search: tags, favourites and the full-text index files_fts

files_fts is an FTS5 external-content table. Its content is the view files_fts_source (a
file's searchable columns plus its tag names, sorted, so the text is deterministic), and
triggers keep the index in step with files, file_tags and tags. An external-content
'delete' must be given exactly the values that were indexed, so every trigger removes the
old row with a BEFORE trigger (the view still shows the old state) and inserts the new one
with an AFTER trigger. Deleting a tag cascades to file_tags after the tag row is gone; the
tag's own BEFORE DELETE trigger removes those files' rows, so the cascaded file_tags
triggers skip their 'delete' when the tag no longer exists.

Caveats for later migrations (SQLite): a batch (copy-and-rename) rebuild of `files`,
`tags` or `file_tags` fails while the view and the triggers that read `files` exist
("error in view files_fts_source: no such table"), and dropping `files` drops its
triggers. Such a migration must call drop_fts() first and create_fts() afterwards (copy
the two functions; do not import this module). `INSERT OR REPLACE` into file_tags is not
supported (REPLACE deletes without firing delete triggers); OR IGNORE is.

PostgreSQL has no FTS5: there files_fts is a plain table of one tsvector per file (GIN
index), made from the same columns with the same word rules as unicode61 with
remove_diacritics (runs of letters and digits, lowered, accents removed by `unaccent`), name
weighted most (A), then tags (B), material/slicer/printer (C), notes (D). Row triggers on
files, file_tags and tags rebuild a file's row; deleting a file cascades to it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

import printstash.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The searchable text of a file; the FTS column order follows this.
FTS_COLUMNS = "name, notes, tags, slicer, printer_model, filament_type, filament_name"
FTS_SOURCE = """
CREATE VIEW files_fts_source AS
SELECT f.id AS id, f.name AS name, coalesce(f.notes, '') AS notes,
       coalesce((SELECT group_concat(n, ' ') FROM (
                   SELECT t.name AS n FROM file_tags AS ft JOIN tags AS t ON t.id = ft.tag_id
                   WHERE ft.file_id = f.id ORDER BY t.name, t.id)), '') AS tags,
       f.slicer AS slicer, f.printer_model AS printer_model,
       f.filament_type AS filament_type, f.filament_name AS filament_name
FROM files AS f
"""
FTS_TABLE = f"""
CREATE VIRTUAL TABLE files_fts USING fts5({FTS_COLUMNS},
    content='files_fts_source', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2')
"""
INDEXED_FILE_COLUMNS = "name, notes, slicer, printer_model, filament_type, filament_name"
FILES_OF_TAG = "id IN (SELECT file_id FROM file_tags WHERE tag_id = {}.id)"

# name -> (timing and event, WHEN clause, 'delete' or 'insert', which files)
TRIGGERS: dict[str, tuple[str, str, str, str]] = {
    "files_fts_files_ai": ("AFTER INSERT ON files", "", "insert", "id = new.id"),
    "files_fts_files_bu": (f"BEFORE UPDATE OF {INDEXED_FILE_COLUMNS} ON files", "", "delete", "id = old.id"),
    "files_fts_files_au": (f"AFTER UPDATE OF {INDEXED_FILE_COLUMNS} ON files", "", "insert", "id = new.id"),
    "files_fts_files_bd": ("BEFORE DELETE ON files", "", "delete", "id = old.id"),
    "files_fts_file_tags_bi": ("BEFORE INSERT ON file_tags",  # not for a pair already there:
                               # its INSERT OR IGNORE would skip the AFTER trigger
                               "WHEN NOT EXISTS (SELECT 1 FROM file_tags "
                               "WHERE file_id = new.file_id AND tag_id = new.tag_id)",
                               "delete", "id = new.file_id"),
    "files_fts_file_tags_ai": ("AFTER INSERT ON file_tags", "", "insert", "id = new.file_id"),
    "files_fts_file_tags_bd": ("BEFORE DELETE ON file_tags",
                               "WHEN EXISTS (SELECT 1 FROM tags WHERE id = old.tag_id)",
                               "delete", "id = old.file_id"),
    "files_fts_file_tags_ad": ("AFTER DELETE ON file_tags", "", "insert", "id = old.file_id"),
    "files_fts_tags_bu": ("BEFORE UPDATE OF name ON tags", "", "delete", FILES_OF_TAG.format("old")),
    "files_fts_tags_au": ("AFTER UPDATE OF name ON tags", "", "insert", FILES_OF_TAG.format("new")),
    "files_fts_tags_bd": ("BEFORE DELETE ON tags", "", "delete", FILES_OF_TAG.format("old")),
}


def _trigger_sql(name: str, event: str, when: str, action: str, which: str) -> str:
    if action == "delete":
        body = (f"INSERT INTO files_fts(files_fts, rowid, {FTS_COLUMNS}) "
                f"SELECT 'delete', id, {FTS_COLUMNS} FROM files_fts_source WHERE {which};")
    else:
        body = (f"INSERT INTO files_fts(rowid, {FTS_COLUMNS}) "
                f"SELECT id, {FTS_COLUMNS} FROM files_fts_source WHERE {which};")
    return f"CREATE TRIGGER {name} {event} FOR EACH ROW {when} BEGIN {body} END"


def _create_statements() -> Iterator[str]:
    yield FTS_SOURCE
    yield FTS_TABLE
    for name, (event, when, action, which) in TRIGGERS.items():
        yield _trigger_sql(name, event, when, action, which)
    # relevance: a word in the name counts most, then tags and material, notes least
    yield "INSERT INTO files_fts(files_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0, 5.0, 2.0, 2.0, 3.0, 2.0)')"
    yield "INSERT INTO files_fts(files_fts) VALUES ('rebuild')"


# NOCASE exists only in SQLite; there it stays as vaults were made. Tag equality is decided by
# tags.name_key (0008) on every backend.
TAG_NAME = sa.String(length=64).with_variant(sa.String(length=64, collation='NOCASE'), 'sqlite')


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def create_fts() -> None:
    for statement in _create_statements():
        op.execute(statement)


def drop_fts() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS files_fts")
    op.execute("DROP VIEW IF EXISTS files_fts_source")


PG_WORDS = """
CREATE FUNCTION files_fts_words(t text) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT regexp_replace(lower(unaccent(coalesce(t, ''))), '[^[:alnum:]]+', ' ', 'g') $$
"""
PG_DOCUMENT = """
CREATE FUNCTION files_fts_document(file_id integer) RETURNS tsvector LANGUAGE sql STABLE AS $$
SELECT setweight(to_tsvector('simple', files_fts_words(f.name)), 'A')
    || setweight(to_tsvector('simple', files_fts_words((
           SELECT string_agg(t.name, ' ' ORDER BY t.name, t.id) FROM file_tags AS ft
           JOIN tags AS t ON t.id = ft.tag_id WHERE ft.file_id = f.id))), 'B')
    || setweight(to_tsvector('simple', files_fts_words(concat_ws(' ', f.filament_type, f.slicer, f.printer_model,
                                                                 f.filament_name))), 'C')
    || setweight(to_tsvector('simple', files_fts_words(f.notes)), 'D')
FROM files AS f WHERE f.id = file_id
$$
"""
PG_REFRESH = """
CREATE FUNCTION files_fts_refresh(file_id integer) RETURNS void LANGUAGE sql AS $$
INSERT INTO files_fts (id, document) SELECT f.id, files_fts_document(f.id) FROM files AS f WHERE f.id = file_id
ON CONFLICT (id) DO UPDATE SET document = excluded.document
$$
"""
# trigger function -> (trigger name, timing and event, body)
PG_TRIGGERS: dict[str, tuple[str, str, str]] = {
    "files_fts_file_changed": ("files_fts_files_aiu",
                               f"AFTER INSERT OR UPDATE OF {INDEXED_FILE_COLUMNS} ON files",
                               "PERFORM files_fts_refresh(NEW.id);"),
    "files_fts_tagging_changed": ("files_fts_file_tags_aid", "AFTER INSERT OR DELETE ON file_tags",
                                  "IF TG_OP = 'DELETE' THEN PERFORM files_fts_refresh(OLD.file_id); "
                                  "ELSE PERFORM files_fts_refresh(NEW.file_id); END IF;"),
    "files_fts_tag_renamed": ("files_fts_tags_au", "AFTER UPDATE OF name ON tags",
                              "PERFORM files_fts_refresh(ft.file_id) FROM file_tags AS ft WHERE ft.tag_id = NEW.id;"),
}


def create_pg_search() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE TABLE files_fts (id integer PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE, "
               "document tsvector NOT NULL)")
    op.execute("CREATE INDEX files_fts_document ON files_fts USING gin (document)")
    op.execute(PG_WORDS)
    op.execute(PG_DOCUMENT)
    op.execute(PG_REFRESH)
    for function, (trigger, event, body) in PG_TRIGGERS.items():
        op.execute(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {body} RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {trigger} {event} FOR EACH ROW EXECUTE FUNCTION {function}()")
    op.execute("SELECT files_fts_refresh(id) FROM files")


def drop_pg_search() -> None:
    for function, (trigger, event, _body) in PG_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {event.rsplit(' ', 1)[1]}")
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP TABLE IF EXISTS files_fts")
    op.execute("DROP FUNCTION IF EXISTS files_fts_refresh(integer)")
    op.execute("DROP FUNCTION IF EXISTS files_fts_document(integer)")
    op.execute("DROP FUNCTION IF EXISTS files_fts_words(text)")


def upgrade() -> None:
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', TAG_NAME, nullable=False),
    sa.Column('created_at', printstash.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('file_tags',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_file_tags_file_id_files'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_file_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'tag_id', name=op.f('pk_file_tags'))
    )
    with op.batch_alter_table('file_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_tags_tag_id'), ['tag_id'], unique=False)

    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('favourite', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_files_favourite'), ['favourite'], unique=False)

    if _sqlite():
        create_fts()
    else:
        create_pg_search()


def downgrade() -> None:
    if _sqlite():
        drop_fts()  # first: the batch rebuild of files below fails while the view exists
    else:
        drop_pg_search()
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_favourite'))
        batch_op.drop_column('favourite')

    with op.batch_alter_table('file_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_tags_tag_id'))

    op.drop_table('file_tags')
    op.drop_table('tags')
