"""Search at 100,000 (or 1,000,000) files: GET /api/v1/files and /files/facets through a real
uvicorn, side by side with the raw database time of the very same SQL statements, on SQLite,
PostgreSQL or both in the same run.

Run from backend/:  uv run python ../bench/search/bench_search.py [--files 100000] [--runs 5]
                    [--requests 200] [--backend sqlite|postgresql|both] [--rebuild]
                    [--scenarios "one-word query,filter only"] [--against REV]

Data: a vault migrated with alembic in bench/data/search-<N>/ (gitignored, reused between
runs unless --rebuild). Synthetic files with realistic metadata are inserted directly: names
in the slicers' `{model}_{layer}mm_{material}_{printer}_{time}` style from ~150 object words
(Zipf-distributed), slicer/printer/material/nozzle/layer mixes as in a hobby farm, JSON
metadata with Moonraker's keys, notes on 10 %, 0-3 of 300 tags on 60 %, two thumbnail rows on
70 %, print history on 30 %, favourites 5 %, trash 2 %; a plate row per file (plate 1, the
file's own values) and 3 % multi-plate packages with 2-4 plates of other values. Bulk load:
the library tables' triggers and indexes are dropped, rows go in with executemany
(name_search folded as the File model folds it), the indexes are built again, files_fts and
files_fts_names 'rebuild' and the triggers come back (exactly the migrations' SQL, read back
from sqlite_master).

PostgreSQL (--backend postgresql|both): the benchmark's own cluster in bench/data/postgresql
(Debian's binaries, started as tests/harness/postgres.py starts the tests' one, kept between
runs, shared_buffers 1 GB), database search_<N> migrated with alembic to head, then the SQLite vault's library
rows copied in by COPY (pg_load: the very same library on both). Reused while the SQLite
library is the same build.

Each run: for every backend and scenario, 10 warm-up requests then --requests sequential
requests on one keep-alive connection (API-key auth, as scripts use it) -> p50/p95; the raw
reference replays the SQL statements the search service issued for that scenario (captured
with a SQLAlchemy cursor event) on a plain connection (sqlite3 with the app's pragmas, or
psycopg) -> p50/p95. The table shows medians over --runs runs and the load average; JSON goes
to bench/results/search-<N>[-<backend>].json.

--against REV: a change's effect, measured where noise cannot pass for it. REV's code (a
temporary git worktree) and this checkout's each serve the same library; their requests
alternate, each going first every other time, and the table gives both HTTP p50/p95 per
scenario (every run's requests pooled). No raw SQL and no JSON file: it compares code, not
the machine's capacity.
"""

import argparse
import hashlib
import http.client
import itertools
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "backend"))

import psycopg  # noqa: E402
from harness import postgres  # noqa: E402
from harness.processes import free_port, stop, vault_env, wait_http  # noqa: E402
from harness.vault import make_settings, migrate  # noqa: E402
from sqlalchemy import Engine, event, make_url, select  # noqa: E402

from printstash.auth import service as auth_service  # noqa: E402
from printstash.core.db import POSTGRESQL_SETTINGS, SQLITE_PRAGMAS, Database  # noqa: E402
from printstash.core.settings import Settings  # noqa: E402
from printstash.library import search  # noqa: E402
from printstash.library.substrings import name_text  # noqa: E402
from printstash.library.tags import tag_key  # noqa: E402

DATA = REPO / "bench" / "data"
RESULTS = REPO / "bench" / "results"

WORDS = """benchy cube calibration bracket hinge gear vase planter clip hook enclosure lid box spool
holder mount adapter knob handle cable organizer stand phone tablet headphone camera gopro tripod
drawer shelf bin tray coaster keychain whistle dragon skull figurine bust miniature terrain tile
castle tower bridge rocket spaceship robot articulated flexi octopus cat dog owl turtle fidget
spinner puzzle dice chess pawn knight bishop rook queen king token card deck wallet ring bracelet
pendant earring lamp shade bulb socket fan duct shroud extruder hotend carriage belt tensioner
idler pulley motor nema bearing spacer washer nut bolt screw thread knurled thumb wheel caster
foot pad bumper corner guard cover case raspberry arduino esp32 pcb enclosure_lid vent grill
filter nozzle_stand tool wrench spanner clamp vise jig fixture template stencil cookie cutter
mold pot cup mug bottle cap funnel scoop spoon fork comb brush toothbrush soap dish mirror frame
sign letter number plate badge medal trophy ornament snowflake star heart tree leaf flower""".split()  # noqa: SIM905
SLICERS = [("PrusaSlicer", "2.7.1", 45), ("OrcaSlicer", "2.0.0", 20), ("Cura", "5.6.0", 20),
           ("SuperSlicer", "2.5.59", 8), ("BambuStudio", "1.8.4", 5), ("Slic3r", "1.3.0", 2)]
PRINTERS = ["Original Prusa MK4", "Original Prusa MK3S", "Original Prusa MINI", "Prusa XL",
            "Creality Ender-3 V2", "Creality Ender-3 S1", "Creality K1", "Creality CR-10",
            "Voron 2.4 350", "Voron 0.2", "Voron Trident 300", "RatRig V-Core 3", "Bambu Lab X1 Carbon",
            "Bambu Lab P1S", "Bambu Lab A1 mini", "Anycubic Kobra 2", "Elegoo Neptune 4 Pro",
            "Sovol SV06", "Artillery Sidewinder X2", "Ultimaker S3", "Ultimaker 2+", "FLSUN V400",
            "Qidi X-Max 3", "Snapmaker 2.0", "Tronxy X5SA", "Kingroon KP3S", "Flashforge Adventurer 5M",
            "Geeetech A10", "Two Trees SK1", "Mingda Magician X"]
MATERIALS = [("PLA", 50, ["Prusament PLA Galaxy Black", "Generic PLA", "eSun PLA+ White", "Polymaker PolyTerra"]),
             ("PETG", 25, ["Prusament PETG Jet Black", "Generic PETG", "Overture PETG Blue"]),
             ("ABS", 8, ["Generic ABS", "Fillamentum ABS Extrafill"]), ("ASA", 6, ["Prusament ASA Orange"]),
             ("TPU", 5, ["NinjaFlex 85A", "Generic TPU 95A"]), ("PA", 2, ["Polymaker PA6-CF"]),
             ("PC", 2, ["Prusament PC Blend"]), (None, 2, [None])]
NOZZLES = [(0.4, 80), (0.6, 10), (0.25, 5), (0.8, 5)]
LAYERS = [0.05, 0.1, 0.12, 0.15, 0.2, 0.2, 0.2, 0.25, 0.28, 0.3]
NOTES = ["printed for the kids", "needs supports on the overhang", "use the textured sheet",
         "brim helps with warping", "scaled to 110%", "gift for Zoë", "crème colour works best",
         "second attempt, first one failed at layer 40", "fits M3 heat-set inserts"]
TAG_COUNT = 300


class EachTime(float):
    """A filter's value made new for every request (and raw capture) by a step too small to
    change a match (`sent`): the api keeps a list's total per filter set (library/search.py,
    `_COUNTED`), so this is what a list costs the first time its filters are asked."""


_STEPS = itertools.count(1)


def sent(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v + next(_STEPS) * 1e-9 if isinstance(v, EachTime) else v for k, v in params.items()}


SCENARIOS: dict[str, dict[str, Any]] = {
    "one-word query": {"q": "bracket"},
    "substring query": {"q": "racket"},  # only inside `bracket`: no word starts with it
    "3-letter fragment": {"q": "ool"},  # spool, tool, …: the shortest fragment looked up
    "query + two filters": {"q": "bracket", "filament_type": "PETG", "nozzle_diameter": 0.4},
    "filter only": {"slicer": "PrusaSlicer", "layer_height_max": 0.2},
    "filter only, new filters": {"slicer": "PrusaSlicer", "layer_height_max": EachTime(0.2)},
    "sorted page 50": {"sort": "name", "limit": 50, "offset": 49 * 50},
    "facets": {},
    "facets + filter": {"filament_type": "PETG"},
}


def is_facets(scenario: str) -> bool:
    return scenario.startswith("facets")


def weighted(rng: random.Random, items: list[Any], weights: list[int]) -> Any:
    return rng.choices(items, weights)[0]


def zipf_word(rng: random.Random) -> str:
    rank = min(int(rng.paretovariate(1.1)) - 1, len(WORDS) - 1)
    return WORDS[(rank * 37) % len(WORDS)]  # spread the common words over the list


def synthetic_file(rng: random.Random, i: int, now: datetime) -> dict[str, Any]:
    slicer, version, _ = weighted(rng, SLICERS, [s[2] for s in SLICERS])
    material, _, names = weighted(rng, MATERIALS, [m[1] for m in MATERIALS])
    nozzle = weighted(rng, [n for n, _ in NOZZLES], [w for _, w in NOZZLES])
    layer = rng.choice(LAYERS)
    printer = rng.choice(PRINTERS) if rng.random() > 0.1 else None
    hours = math.exp(rng.gauss(0.7, 1.0))
    model = "_".join(zipf_word(rng) for _ in range(rng.choice([1, 1, 2, 2, 3])))
    stamp = f"{int(hours)}h{int(hours % 1 * 60)}m"
    name = f"{model}_{layer}mm_{material or 'unknown'}_{(printer or 'generic').split()[-1]}_{stamp}.gcode"
    filament = round(hours * 5200 * rng.uniform(0.6, 1.4), 2)
    uploaded = now - timedelta(seconds=rng.uniform(0, 3 * 365 * 86400))
    printed = rng.random() < 0.3
    meta = {"slicer": slicer, "slicer_version": version, "estimated_time": round(hours * 3600),
            "filament_total": filament, "filament_weight_total": round(filament * 0.003, 2),
            "filament_type": material, "filament_name": rng.choice(names), "nozzle_diameter": nozzle,
            "layer_height": layer, "first_layer_height": 0.2, "object_height": round(rng.uniform(2, 250), 2),
            "first_layer_extr_temp": 215.0, "first_layer_bed_temp": 60.0, "chamber_temp": 0,
            "filament_colors": ["#FF8000"], "extruder_colors": [], "filament_temps": [215],
            "referenced_tools": [], "printer_model": printer, "gcode_start_byte": 2893,
            "gcode_end_byte": 190419, "layer_count": rng.randint(10, 1200)}
    return {
        "id": i, "name": name, "name_search": name_text(name), "size": rng.randint(50_000, 80_000_000),
        "sha256": f"{i:064x}",
        "notes": rng.choice(NOTES) if rng.random() < 0.1 else "", "uploaded_at": uploaded,
        "deleted_at": uploaded + timedelta(days=1) if rng.random() < 0.02 else None,
        "metadata_json": json.dumps(meta), "slicer": slicer, "slicer_version": version,
        "printer_model": printer, "filament_type": material, "filament_name": meta["filament_name"],
        "nozzle_diameter": nozzle, "layer_height": layer, "estimated_time": meta["estimated_time"],
        "filament_total": filament, "filament_weight_total": meta["filament_weight_total"],
        "object_height": meta["object_height"], "layer_count": meta["layer_count"],
        "thumbnail_count": 2 if rng.random() < 0.7 else 0,
        "print_count": rng.randint(1, 9) if printed else 0,
        "last_printed_at": uploaded + timedelta(days=rng.uniform(0, 30)) if printed else None,
        "last_print_result": rng.choice(["completed", "completed", "cancelled"]) if printed else None,
        "favourite": rng.random() < 0.05,
    }


FILE_COLUMNS = ["id", "name", "name_search", "size", "sha256", "notes", "uploaded_at", "deleted_at", "parse_status",
                "full_scan_done", "metadata_json", "slicer", "slicer_version", "printer_model",
                "filament_type", "filament_name", "nozzle_diameter", "layer_height", "estimated_time",
                "filament_total", "filament_weight_total", "object_height", "layer_count",
                "thumbnail_count", "print_count", "last_printed_at", "last_print_result", "favourite"]


PLATE_COLUMNS = ["file_id", '"index"', "metadata_json", "slicer", "printer_model", "filament_type",
                 "nozzle_diameter", "layer_height", "estimated_time"]
MULTI_PLATE_SHARE = 0.03  # sliced packages (.gcode.3mf) with 2-4 plates among hobby uploads


def plates(rows: list[dict[str, Any]], now: datetime, seed: int) -> Iterator[list[Any]]:
    """Every file's plate 1 (its own values, as ingest stores them) and, for a few, later plates
    with other values (their own generator: the files and tags stay those of earlier runs)."""
    rng = random.Random(seed + 1)
    for row in rows:
        yield [row["id"], 1, *(row[c] for c in PLATE_COLUMNS[2:])]
        if rng.random() < MULTI_PLATE_SHARE:
            for index in range(2, rng.randint(3, 5)):
                other = synthetic_file(rng, row["id"], now)
                yield [row["id"], index, *(other[c] for c in PLATE_COLUMNS[2:])]


def _naive(value: Any) -> Any:
    # Stored the way UTCDateTime stores it: naive UTC text.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value


LIBRARY_TABLES = ("tags", "files", "file_tags", "file_plates", "thumbnails")  # in foreign-key order


def bulk_load(path: Path, n: int, seed: int = 4) -> None:
    rng, now = random.Random(seed), datetime.now(UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    # 1 GB of page cache: at 1M files the tables outgrow the default 2 MB many times over
    conn.execute("PRAGMA cache_size = -1000000")
    tables = ", ".join(f"'{t}'" for t in LIBRARY_TABLES)
    # the library tables' triggers and indexes, made again after the rows (a sorted index
    # build instead of a million scattered inserts)
    derived = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') "  # noqa: S608
                           f"AND sql IS NOT NULL AND tbl_name IN ({tables})").fetchall()
    conn.execute("BEGIN")
    for kind, name, _ in derived:
        conn.execute(f"DROP {kind.upper()} {name}")
    rows = [synthetic_file(rng, i, now) | {"parse_status": "ok", "full_scan_done": 1} for i in range(1, n + 1)]
    marks = ", ".join("?" for _ in FILE_COLUMNS)
    conn.executemany(f"INSERT INTO files ({', '.join(FILE_COLUMNS)}) VALUES ({marks})",  # noqa: S608 - constants
                     ([_naive(r[c]) for c in FILE_COLUMNS] for r in rows))
    conn.executemany('INSERT INTO thumbnails (file_id, "index", width, height, format, size, path) '
                     "VALUES (?, ?, ?, ?, 'png', ?, ?)",
                     ((r["id"], k, w, w, 2000 * (k + 1), f"{r['sha256'][:2]}/{r['sha256']}-{k}.png")
                      for r in rows if r["thumbnail_count"] for k, w in enumerate((32, 300))))
    tag_names = [f"{rng.choice(WORDS)}-{k}" if k % 3 else rng.choice(WORDS).title() + f" {k}" for k in range(TAG_COUNT)]
    conn.executemany("INSERT INTO tags (id, name, name_key, created_at) VALUES (?, ?, ?, ?)",
                     ((k + 1, name, tag_key(name), _naive(now)) for k, name in enumerate(tag_names)))
    pairs = {(r["id"], rng.randint(1, TAG_COUNT)) for r in rows if rng.random() < 0.6 for _ in range(rng.randint(1, 3))}
    conn.executemany("INSERT INTO file_tags (file_id, tag_id) VALUES (?, ?)", sorted(pairs))
    # one plate per file as every sliced file has since migration 0008, a few with more
    conn.executemany(f"INSERT INTO file_plates ({', '.join(PLATE_COLUMNS)}) "  # noqa: S608 - constants
                     f"VALUES ({', '.join('?' for _ in PLATE_COLUMNS)})", plates(rows, now, seed))
    del rows
    for kind, _, sql in derived:
        if kind == "index":
            conn.execute(sql)
    conn.execute("INSERT INTO files_fts(files_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO files_fts_names(files_fts_names) VALUES ('rebuild')")
    # what the dropped triggers (migrations 0007 and 0017) would have done
    conn.execute("UPDATE app_state SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'library_version'")
    conn.execute("UPDATE app_state SET value = CAST((SELECT count(*) FROM files WHERE deleted_at IS NULL) AS TEXT) "
                 "WHERE key = 'live_files'")
    for kind, _, sql in derived:
        if kind == "trigger":
            conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


@dataclass
class Vault:
    backend: str  # "sqlite" or "postgresql"
    settings: Settings
    key: str


def bench_key(settings: Settings) -> str:
    """A member with an API key, as scripts search; its key in clear."""
    database = Database.from_settings(settings)
    with database.write() as session:
        user = auth_service.create_user(session, "bench", "correct horse battery", "member")
        _, key = auth_service.create_api_key(session, user, "bench")
    database.dispose()
    return key


def make_vault(n: int, rebuild: bool) -> Vault:
    data_dir = DATA / f"search-{n}"
    settings = make_settings(data_dir)
    key_file = data_dir / "bench-api-key"
    if key_file.exists() and not rebuild:
        migrate(settings)  # reused data: bring it to this version's head, as an admin would
        return Vault("sqlite", settings, key_file.read_text())
    if data_dir.exists():
        shutil.rmtree(data_dir)
    migrate(settings)
    assert settings.sqlite_path is not None
    started = time.perf_counter()
    bulk_load(settings.sqlite_path, n)
    print(f"loaded {n} files in {time.perf_counter() - started:.1f} s "
          f"({settings.sqlite_path.stat().st_size / 1e6:.0f} MB)", flush=True)
    key = bench_key(settings)
    key_file.write_text(key)
    return Vault("sqlite", settings, key)


# ---- the same library on PostgreSQL ----------------------------------------------------------

# PostgreSQL's default shared_buffers (128 MB) holds an eighth of the 1M library: every other
# page a search touches is copied in from the OS cache, one read() per 8 KB page (the
# one-word query's 19,636 matches at 1M: 48k such reads). A quarter of the memory, up to a few
# GB, is the usual production setting (docs/scaling.md); 1 GB here, SQLite reads through a 1 GiB
# memory map (core/db.py).
PG_SHARED_BUFFERS = "1GB"


def tune(server: postgres.Server) -> postgres.Server:
    """The benchmark's cluster with PG_SHARED_BUFFERS (ALTER SYSTEM: kept in the cluster),
    restarted once when it runs with another setting."""
    if server.psql("SHOW shared_buffers") == [(PG_SHARED_BUFFERS,)]:
        return server
    server.psql(f"ALTER SYSTEM SET shared_buffers = '{PG_SHARED_BUFFERS}'")
    if server.admin is not None:
        server.admin.close()
    subprocess.run([*server.prefix, str(server.bin / "pg_ctl"), "-D", str(server.root / "data"), "-m", "fast",
                    "-w", "stop"], check=True, capture_output=True)
    return postgres.start(server.root)


def make_pg_vault(n: int, source: Vault, server: postgres.Server, rebuild: bool) -> Vault:
    """The SQLite vault's library copied into database search_<N> of the benchmark's own
    cluster (bench/data/postgresql), migrated with alembic first. Reused while the SQLite
    library it came from is the same one (its bench key identifies a build)."""
    name = f"search_{n}"
    data_dir = DATA / f"search-{n}-postgresql"
    settings = make_settings(data_dir, db_url=server.url(name))
    key_file, origin = data_dir / "bench-api-key", data_dir / "loaded-from"
    built_from = hashlib.sha256(source.key.encode()).hexdigest()
    if not rebuild and key_file.exists() and origin.exists() and origin.read_text() == built_from:
        migrate(settings)
        settled(server, name)
        return Vault("postgresql", settings, key_file.read_text())
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    server.drop_database(name)
    server.psql(f'CREATE DATABASE "{name}"')
    migrate(settings)
    assert source.settings.sqlite_path is not None
    started = time.perf_counter()
    pg_load(source.settings.sqlite_path, server, name)
    size = server.psql(f"SELECT pg_database_size('{name}')")[0][0]
    print(f"copied {n} files into PostgreSQL in {time.perf_counter() - started:.1f} s ({size} bytes)", flush=True)
    key = bench_key(settings)
    key_file.write_text(key)
    origin.write_text(built_from)
    return Vault("postgresql", settings, key)


# files_fts in one set-based statement: migration 0005's files_fts_document(file_id) for every
# file at once (the same expression, with the tag names of all files aggregated in one pass
# instead of looked up per call: one call per file took > 20 min for 1M files), and 0018's live
# flag. pg_load compares a sample with the function itself and with the files' trash, so a
# change to 0005's document shows here.
FTS_FILL = """
INSERT INTO files_fts (id, document, live)
SELECT f.id, setweight(to_tsvector('simple', files_fts_words(f.name)), 'A')
    || setweight(to_tsvector('simple', files_fts_words(tagged.names)), 'B')
    || setweight(to_tsvector('simple', files_fts_words(concat_ws(' ', f.filament_type, f.slicer, f.printer_model,
                                                                 f.filament_name))), 'C')
    || setweight(to_tsvector('simple', files_fts_words(f.notes)), 'D'), f.deleted_at IS NULL
FROM files AS f LEFT JOIN (
    SELECT ft.file_id, string_agg(t.name, ' ' ORDER BY t.name, t.id) AS names
    FROM file_tags AS ft JOIN tags AS t ON t.id = ft.tag_id GROUP BY ft.file_id) AS tagged ON tagged.file_id = f.id
"""
FTS_SAMPLE = 997  # every 997th file is checked against files_fts_document()


def check_fts_fill(conn: psycopg.Connection[Any]) -> None:
    differing = conn.execute("SELECT count(*), min(id) FROM files_fts "
                             "WHERE id %% %s = 0 AND (document <> files_fts_document(id) "
                             "OR live <> (SELECT deleted_at IS NULL FROM files WHERE files.id = files_fts.id))",
                             [FTS_SAMPLE]).fetchone()
    if differing is None or differing[0]:
        raise SystemExit(f"files_fts fill differs from migration 0005's files_fts_document() or the trash: {differing}")


def settled(server: postgres.Server, database: str) -> None:
    """VACUUM ANALYZE again when the files' visibility map is behind: pg_load's VACUUM cannot
    mark rows all-visible while another connection holds an older snapshot (a second benchmark
    running on the cluster), and counts then read every row (50 ms instead of 13 at 100k). Or
    when a migration left files_fts with dead rows (0018 updates the trash's): their entries
    in the GIN index are read and dropped by every search until autovacuum comes by."""
    with server.connect(database) as conn:
        pages, visible = conn.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'files'").fetchone()
        dead, live = conn.execute("SELECT n_dead_tup, n_live_tup FROM pg_stat_user_tables "
                                  "WHERE relname = 'files_fts'").fetchone()
        if visible < 0.9 * pages or dead > 0.01 * live:
            conn.execute("VACUUM ANALYZE")


def pg_load(sqlite_path: Path, server: postgres.Server, database: str) -> None:
    """Every library table's rows from the SQLite file, by COPY. Replica mode holds back the
    triggers (the per-row tsvector refresh of migration 0005, the foreign-key checks of rows
    SQLite already checked, 0007's version bumps, 0017's live-file count); the tables' own
    indexes are dropped first and built again after the rows; files_fts is then filled in one
    set-based statement (FTS_FILL, checked against 0005's files_fts_document() on a sample), and
    VACUUM ANALYZE gives the planner its statistics and the visibility map that index-only
    counts need (autovacuum would, later)."""
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    with server.connect(database) as conn:
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                               "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                               [[*LIBRARY_TABLES, "files_fts"]]).fetchall()
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
            conn.execute("SET LOCAL work_mem = '256MB'")  # FTS_FILL's aggregation of every file's tags
            for index, _ in indexes:
                conn.execute(f'DROP INDEX "{index}"'.encode())
            for table in LIBRARY_TABLES:
                rows = source.execute(f"SELECT * FROM {table}")  # noqa: S608 - constants
                columns = ", ".join(f'"{d[0]}"' for d in rows.description)
                with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN".encode()) as copy:
                    for row in rows:
                        copy.write_row(row)
            conn.execute(FTS_FILL)
            for _, sql in indexes:
                conn.execute(sql.encode())
            check_fts_fill(conn)
            for table in ("tags", "files", "file_plates", "thumbnails"):
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "  # noqa: S608 - constants
                             f"FROM {table}".encode())
            conn.execute("UPDATE app_state SET value = to_json((value::text)::bigint + 1) "
                         "WHERE key = 'library_version'")
            conn.execute("UPDATE app_state SET value = to_json((SELECT count(*) FROM files WHERE deleted_at IS NULL)) "
                         "WHERE key = 'live_files'")
        conn.execute("VACUUM ANALYZE")
    source.close()


# ---- the raw reference ------------------------------------------------------------------------

def captured_sql(vault: Vault, name: str, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """The statements the search service runs for this scenario, with their parameters, as the
    api calls it (with its Database: on PostgreSQL a list's count runs beside its page; replayed
    one after the other). A list without a search text has its count among them: this process
    counts each filter set once."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith(("BEGIN", "PRAGMA")):
            statements.append((statement, parameters))

    query = search.FileQuery(**{k: ([v] if k in ("slicer", "filament_type", "nozzle_diameter") else v)
                                for k, v in sent(params).items()})
    database = Database.from_settings(vault.settings)
    with database.read() as session:
        session.execute(select(1))  # connected: PostgreSQL's first-connection queries are not the search's
    event.listen(Engine, "before_cursor_execute", record)
    try:
        with database.read() as session:
            search.facets(session, query) if is_facets(name) else search.search_files(session, query, database)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        database.dispose()
    return statements


def time_raw(vault: Vault, statements: list[tuple[str, Any]], count: int) -> list[float]:
    """The statements replayed in one transaction per sample on a plain connection: sqlite3
    with the app's pragmas, or psycopg with the app's settings."""
    if vault.backend == "postgresql":
        url = make_url(vault.settings.database_url)
        conn: Any = psycopg.connect(dbname=url.database, user=url.username, host=url.query["host"])
        for setting in POSTGRESQL_SETTINGS:
            conn.execute(f"SET {setting}".encode())
        begin, commit = None, conn.commit
    else:
        conn = sqlite3.connect(str(vault.settings.sqlite_path), isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            conn.execute(f"PRAGMA {pragma}")
        begin, commit = "BEGIN", partial(conn.execute, "COMMIT")
    samples = []
    for i in range(count + 10):
        started = time.perf_counter()
        if begin:
            conn.execute(begin)
        for statement, parameters in statements:
            conn.execute(statement, parameters).fetchall()
        commit()
        if i >= 10:
            samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    return samples


class KeepAlive:
    """One keep-alive HTTP/1.1 connection through the standard library's http.client, so that
    what is timed is the server's answer: httpx's own request handling added ~3 ms to each
    (GET /api/v1/health/live, p50 4.2 ms through httpx.Client, 0.9 ms through http.client,
    the same server, 2026-12-03)."""

    def __init__(self, base: str, key: str) -> None:
        url = urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        self.headers = {"X-Api-Key": key}

    def get(self, path: str, params: dict[str, Any]) -> bytes:
        try:
            answer = self._get(path, params)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # uvicorn closes a connection idle for 5 s (while the raw SQL was timed): a new one,
            # in the scenario's untimed warm-up requests
            self.connection.close()
            answer = self._get(path, params)
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"GET {path} {params}: {answer.status} {body[:200]!r}")
        return body

    def _get(self, path: str, params: dict[str, Any]) -> http.client.HTTPResponse:
        self.connection.request("GET", f"{path}?{urlencode(sent(params), doseq=True)}", headers=self.headers)
        return self.connection.getresponse()

    def close(self) -> None:
        self.connection.close()


def time_http(client: KeepAlive, path: str, params: dict[str, Any], count: int) -> tuple[list[float], int]:
    samples, total = [], -1
    for i in range(count + 10):
        started = time.perf_counter()
        body = client.get(path, params)
        elapsed = (time.perf_counter() - started) * 1000
        total = json.loads(body)["total"]
        if i >= 10:
            samples.append(elapsed)
    return samples, total


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def serve(vault: Vault, tree: Path = REPO) -> Iterator[str]:
    """`printstash serve` of the code in `tree` (this checkout, or --against's) on a free
    loopback port. Its log goes to a file: uvicorn logs every request, and a pipe nobody reads
    fills up and freezes the server."""
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = vault_env(vault.settings.data_dir, VAULT_LOG_LEVEL="WARNING", VAULT_DB_URL=vault.settings.database_url)
    with (RESULTS / f"search-server-{vault.backend}.log").open("ab") as log:
        # `-m` from tree/backend: that tree's printstash package comes first on the path
        proc = subprocess.Popen([sys.executable, "-m", "printstash.cli", "serve", "--port", str(port)],
                                cwd=tree / "backend", env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{base}/api/v1/health/live", timeout=180.0)  # a loaded 2-CPU machine
            yield base
        finally:
            stop(proc)


MEASURES = ("http_p50", "http_p95", "raw_p50", "raw_p95", "load")


def run(vaults: list[Vault], scenarios: dict[str, dict[str, Any]], runs: int, count: int) -> dict[str, dict[str, Any]]:
    """Per backend and scenario: medians over the runs. Backends alternate within each run,
    so both see the same machine; the 1-minute load average is sampled after each scenario."""
    samples = {v.backend: {n: {m: [] for m in MEASURES} for n in scenarios} for v in vaults}
    totals: dict[str, dict[str, int]] = {v.backend: {} for v in vaults}
    sql = {v.backend: {name: captured_sql(v, name, params) for name, params in scenarios.items()} for v in vaults}
    with ExitStack() as stack:
        clients = {}
        for vault in vaults:
            base = stack.enter_context(serve(vault))
            clients[vault.backend] = stack.enter_context(closing(KeepAlive(base, vault.key)))
        for _ in range(runs):
            for vault in vaults:
                for name, params in scenarios.items():
                    path = "/api/v1/files/facets" if is_facets(name) else "/api/v1/files"
                    http, totals[vault.backend][name] = time_http(clients[vault.backend], path, params, count)
                    raw = time_raw(vault, sql[vault.backend][name], count)
                    got = samples[vault.backend][name]
                    for label, values in (("http", http), ("raw", raw)):
                        got[f"{label}_p50"].append(pct(values, 0.5))
                        got[f"{label}_p95"].append(pct(values, 0.95))
                    got["load"].append(os.getloadavg()[0])
                    print(f"  {vault.backend} {name}: HTTP p50 {pct(http, 0.5):.1f} ms, "
                          f"raw p50 {pct(raw, 0.5):.1f} ms, load {got['load'][-1]:.1f}", flush=True)
    return {backend: {name: {m: statistics.median(v) for m, v in r.items()}
                      | {"matches": totals[backend][name], "statements": len(sql[backend][name])}
                      for name, r in rows.items()} for backend, rows in samples.items()}


def table(files: int, runs: int, count: int, result: dict[str, dict[str, Any]]) -> str:
    """One Markdown table, the backends side by side (matches must agree: same library)."""
    backends = list(result)
    short = {"sqlite": "SQLite", "postgresql": "PG"}
    head = ["scenario", "matches"]
    for label in ("HTTP p50", "HTTP p95", "raw p50", "raw p95"):
        head += [f"{short[b]} {label}" for b in backends]
    head.append("load")
    lines = [f"{files} files, medians of {runs} runs x {count} requests (ms); {os.cpu_count()} CPUs, "
             "load = median 1-min load average during the row",
             "| " + " | ".join(head) + " |", "|" + " --- |" + " ---: |" * (len(head) - 1)]
    for name in result[backends[0]]:
        rows = [result[b][name] for b in backends]
        matches = {r["matches"] for r in rows}
        cells = [name, f"{rows[0]['matches']:,}" if len(matches) == 1 else " / ".join(f"{m:,}" for m in matches) + " !"]
        for measure in ("http_p50", "http_p95", "raw_p50", "raw_p95"):
            cells += [f"{r[measure]:.1f}" for r in rows]
        cells.append(" / ".join(f"{r['load']:.1f}" for r in rows))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """The code of `rev` in a temporary git worktree (the same libraries: this venv serves it)."""
    tree = DATA / f"against-{rev.replace('/', '_')}"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--force", "--detach", str(tree), rev],
                   check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)


def compare(vaults: list[Vault], scenarios: dict[str, dict[str, Any]], rev: str, runs: int,
            count: int) -> dict[str, dict[str, dict[str, float]]]:
    """HTTP p50/p95 of `rev`'s code and this checkout's against the same library, their requests
    alternating (each goes first every other time), so machine noise falls on both alike:
    on this 2-CPU machine, consecutive runs of unchanged code differed by 20-70 %."""
    got: dict[str, dict[str, dict[str, list[float]]]] = {
        v.backend: {n: {"before": [], "after": []} for n in scenarios} for v in vaults}
    with checkout(rev) as tree:
        for vault in vaults:
            with ExitStack() as stack:
                before = stack.enter_context(closing(KeepAlive(stack.enter_context(serve(vault, tree)), vault.key)))
                after = stack.enter_context(closing(KeepAlive(stack.enter_context(serve(vault)), vault.key)))
                for _ in range(runs):
                    for name, params in scenarios.items():
                        path = "/api/v1/files/facets" if is_facets(name) else "/api/v1/files"
                        samples: dict[str, list[float]] = {"before": [], "after": []}
                        for i in range(count + 10):
                            pair = (("before", before), ("after", after))
                            for side, client in pair if i % 2 == 0 else pair[::-1]:
                                started = time.perf_counter()
                                client.get(path, params)
                                if i >= 10:
                                    samples[side].append((time.perf_counter() - started) * 1000)
                        for side, values in samples.items():
                            got[vault.backend][name][side] += values
                        print(f"  {vault.backend} {name}: p50 {pct(samples['before'], 0.5):.1f} -> "
                              f"{pct(samples['after'], 0.5):.1f} ms, load {os.getloadavg()[0]:.1f}", flush=True)
    return {backend: {name: {f"{side}_{q}": pct(values, level) for side, values in sides.items()
                             for q, level in (("p50", 0.5), ("p95", 0.95))}
                      for name, sides in rows.items()} for backend, rows in got.items()}


def compare_table(rev: str, result: dict[str, dict[str, dict[str, float]]]) -> str:
    short = {"sqlite": "SQLite", "postgresql": "PG"}
    head = ["scenario"] + [f"{short[b]} {q} {rev} -> this" for b in result for q in ("p50", "p95")]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for name in next(iter(result.values())):
        cells = [name] + [f"{result[b][name][f'before_{q}']:.1f} -> {result[b][name][f'after_{q}']:.1f}"
                          for b in result for q in ("p50", "p95")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="0: build or update the data only")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    parser.add_argument("--against", metavar="REV", help="HTTP only, REV's code beside this checkout's, "
                        "requests alternating (all --runs x --requests of each pooled)")
    args = parser.parse_args()
    wanted = args.scenarios.split(",") if args.scenarios else list(SCENARIOS)
    if unknown := set(wanted) - set(SCENARIOS):
        parser.error(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    scenarios = {name: SCENARIOS[name] for name in wanted}
    source = make_vault(args.files, args.rebuild)  # PostgreSQL's library is copied from it
    vaults = [source] if args.backend in ("sqlite", "both") else []
    if args.backend in ("postgresql", "both"):
        server = tune(postgres.start(DATA / "postgresql"))
        vaults.append(make_pg_vault(args.files, source, server, args.rebuild))
        print(f"PostgreSQL keeps running for the next run; stop it with: {' '.join(server.prefix)} "
              f"{server.bin / 'pg_ctl'} -D {server.root / 'data'} stop", flush=True)
    if args.runs == 0:
        return
    if args.against:
        print("\n" + compare_table(args.against, compare(vaults, scenarios, args.against, args.runs, args.requests)))
        return
    when = datetime.now(UTC).isoformat()
    result = run(vaults, scenarios, args.runs, args.requests)
    load = os.getloadavg()
    print("\n" + table(args.files, args.runs, args.requests, result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"files": args.files, "runs": args.runs, "requests": args.requests, "started": when,
           "finished": datetime.now(UTC).isoformat(), "load_average_at_end": load,
           "backends": result, "scenario_params": scenarios}
    suffix = "" if args.backend == "sqlite" else f"-{args.backend}"
    (RESULTS / f"search-{args.files}{suffix}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
