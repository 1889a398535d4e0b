"""Search at 100,000 files: GET /api/v1/files and /files/facets through a real uvicorn,
side by side with the raw SQLite time of the very same SQL statements.

Run from backend/:  uv run python ../bench/search/bench_search.py [--files 100000] [--runs 5]
                    [--requests 200] [--rebuild]

Data: a vault migrated with alembic in bench/data/search-<N>/ (gitignored, reused between
runs unless --rebuild). Synthetic files with realistic metadata are inserted directly: names
in the slicers' `{model}_{layer}mm_{material}_{printer}_{time}` style from ~150 object words
(Zipf-distributed), slicer/printer/material/nozzle/layer mixes as in a hobby farm, JSON
metadata with Moonraker's keys, notes on 10 %, 0-3 of 300 tags on 60 %, two thumbnail rows on
70 %, print history on 30 %, favourites 5 %, trash 2 %. Bulk load: the FTS triggers are
dropped, rows go in with executemany, then files_fts 'rebuild' and the triggers come back
(exactly the migration's SQL, read back from sqlite_master).

Each run: for every scenario, 10 warm-up requests then --requests sequential requests on one
keep-alive connection (API-key auth, as scripts use it) -> p50/p95; the raw reference replays
the SQL statements the search service issued for that scenario (captured with a SQLAlchemy
cursor event) on a plain sqlite3 connection with the same pragmas -> p50/p95. The table shows
medians over --runs runs; JSON goes to bench/results/search-<N>.json.
"""

import argparse
import json
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "backend"))

import httpx  # noqa: E402
from harness.processes import free_port, stop, vault_env, wait_http  # noqa: E402
from harness.vault import make_settings, migrate  # noqa: E402
from sqlalchemy import Engine, event  # noqa: E402

from printstash.auth import service as auth_service  # noqa: E402
from printstash.core.db import Database  # noqa: E402
from printstash.core.settings import Settings  # noqa: E402
from printstash.library import search  # noqa: E402
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

SCENARIOS: dict[str, dict[str, Any]] = {
    "one-word query": {"q": "bracket"},
    "query + two filters": {"q": "bracket", "filament_type": "PETG", "nozzle_diameter": 0.4},
    "filter only": {"slicer": "PrusaSlicer", "layer_height_max": 0.2},
    "sorted page 50": {"sort": "name", "limit": 50, "offset": 49 * 50},
    "facets": {},
}


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
        "id": i, "name": name, "size": rng.randint(50_000, 80_000_000), "sha256": f"{i:064x}",
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


FILE_COLUMNS = ["id", "name", "size", "sha256", "notes", "uploaded_at", "deleted_at", "parse_status",
                "full_scan_done", "metadata_json", "slicer", "slicer_version", "printer_model",
                "filament_type", "filament_name", "nozzle_diameter", "layer_height", "estimated_time",
                "filament_total", "filament_weight_total", "object_height", "layer_count",
                "thumbnail_count", "print_count", "last_printed_at", "last_print_result", "favourite"]


def _naive(value: Any) -> Any:
    # Stored the way UTCDateTime stores it: naive UTC text.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value


def bulk_load(path: Path, n: int, seed: int = 4) -> None:
    rng, now = random.Random(seed), datetime.now(UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    triggers = conn.execute("SELECT sql FROM sqlite_master "
                            "WHERE type = 'trigger' AND name LIKE 'files_fts%'").fetchall()
    conn.execute("BEGIN")
    for (sql,) in triggers:
        conn.execute(f"DROP TRIGGER {sql.split()[2]}")
    rows = [synthetic_file(rng, i, now) | {"parse_status": "ok", "full_scan_done": 1} for i in range(1, n + 1)]
    marks = ", ".join("?" for _ in FILE_COLUMNS)
    conn.executemany(f"INSERT INTO files ({', '.join(FILE_COLUMNS)}) VALUES ({marks})",  # noqa: S608 - constants
                     ([_naive(r[c]) for c in FILE_COLUMNS] for r in rows))
    conn.executemany('INSERT INTO thumbnails (file_id, "index", width, height, format, size, path) '
                     "VALUES (?, ?, ?, ?, 'png', ?, ?)",
                     ((r["id"], k, w, w, 2000 * (k + 1), f"{r['sha256'][:2]}/{r['sha256']}-{k}.png")
                      for r in rows if r["thumbnail_count"] for k, w in enumerate((32, 300))))
    # one plate per file, its metadata the file's, as every sliced file has since migration 0008
    conn.executemany('INSERT INTO file_plates (file_id, "index", metadata_json) VALUES (?, 1, ?)',
                     ((r["id"], r["metadata_json"]) for r in rows))
    tag_names = [f"{rng.choice(WORDS)}-{k}" if k % 3 else rng.choice(WORDS).title() + f" {k}" for k in range(TAG_COUNT)]
    conn.executemany("INSERT INTO tags (id, name, name_key, created_at) VALUES (?, ?, ?, ?)",
                     ((k + 1, name, tag_key(name), _naive(now)) for k, name in enumerate(tag_names)))
    pairs = {(r["id"], rng.randint(1, TAG_COUNT)) for r in rows if rng.random() < 0.6 for _ in range(rng.randint(1, 3))}
    conn.executemany("INSERT INTO file_tags (file_id, tag_id) VALUES (?, ?)", sorted(pairs))
    conn.execute("INSERT INTO files_fts(files_fts) VALUES ('rebuild')")
    for (sql,) in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


def make_vault(n: int, rebuild: bool) -> tuple[Settings, str]:
    data_dir = DATA / f"search-{n}"
    settings = make_settings(data_dir)
    key_file = data_dir / "bench-api-key"
    if key_file.exists() and not rebuild:
        migrate(settings)  # reused data: bring it to this version's head, as an admin would
        return settings, key_file.read_text()
    if data_dir.exists():
        import shutil
        shutil.rmtree(data_dir)
    migrate(settings)
    assert settings.sqlite_path is not None
    started = time.perf_counter()
    bulk_load(settings.sqlite_path, n)
    print(f"loaded {n} files in {time.perf_counter() - started:.1f} s "
          f"({settings.sqlite_path.stat().st_size / 1e6:.0f} MB)")
    database = Database.from_settings(settings)
    with database.write() as session:
        user = auth_service.create_user(session, "bench", "correct horse battery", "member")
        _, key = auth_service.create_api_key(session, user, "bench")
    database.dispose()
    key_file.write_text(key)
    return settings, key


# ---- the raw SQLite reference ----------------------------------------------------------------

def captured_sql(settings: Settings, name: str, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """The statements the search service runs for this scenario, with their parameters."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith(("BEGIN", "PRAGMA")):
            statements.append((statement, parameters))

    query = search.FileQuery(**{k: ([v] if k in ("slicer", "filament_type", "nozzle_diameter") else v)
                                for k, v in params.items()})
    database = Database.from_settings(settings)
    event.listen(Engine, "before_cursor_execute", record)
    try:
        with database.read() as session:
            search.facets(session, query) if name == "facets" else search.search_files(session, query)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        database.dispose()
    return statements


def time_raw(settings: Settings, statements: list[tuple[str, Any]], count: int) -> list[float]:
    conn = sqlite3.connect(str(settings.sqlite_path), isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
        conn.execute(f"PRAGMA {pragma}")
    samples = []
    for i in range(count + 10):
        started = time.perf_counter()
        conn.execute("BEGIN")
        for statement, parameters in statements:
            conn.execute(statement, parameters).fetchall()
        conn.execute("COMMIT")
        if i >= 10:
            samples.append((time.perf_counter() - started) * 1000)
    conn.close()
    return samples


def time_http(client: httpx.Client, path: str, params: dict[str, Any], count: int) -> tuple[list[float], int]:
    samples, total = [], -1
    for i in range(count + 10):
        started = time.perf_counter()
        answer = client.get(path, params=params)
        elapsed = (time.perf_counter() - started) * 1000
        answer.raise_for_status()
        total = answer.json()["total"]
        if i >= 10:
            samples.append(elapsed)
    return samples, total


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """`printstash serve` on a free loopback port. Its log goes to a file: uvicorn logs
    every request, and a pipe nobody reads fills up and freezes the server."""
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "search-server.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "printstash.cli", "serve", "--port", str(port)],
                                cwd=REPO / "backend", env=vault_env(settings.data_dir, VAULT_LOG_LEVEL="WARNING"),
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{base}/api/v1/health/live")
            yield base
        finally:
            stop(proc)


def run(settings: Settings, key: str, runs: int, count: int) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {n: {"http_p50": [], "http_p95": [], "raw_p50": [],
                                                      "raw_p95": []} for n in SCENARIOS}
    totals: dict[str, int] = {}
    sql = {name: captured_sql(settings, name, params) for name, params in SCENARIOS.items()}
    with serve(settings) as base, httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=120) as client:
        for _ in range(runs):
            for name, params in SCENARIOS.items():
                path = "/api/v1/files/facets" if name == "facets" else "/api/v1/files"
                http, totals[name] = time_http(client, path, params, count)
                print(f"  {name}: HTTP p50 {pct(http, 0.5):.1f} ms", flush=True)
                raw = time_raw(settings, sql[name], count)
                for label, samples in (("http", http), ("raw", raw)):
                    results[name][f"{label}_p50"].append(pct(samples, 0.5))
                    results[name][f"{label}_p95"].append(pct(samples, 0.95))
    return {name: {k: statistics.median(v) for k, v in r.items()} | {"matches": totals[name],
            "statements": len(sql[name])} for name, r in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    settings, key = make_vault(args.files, args.rebuild)
    table = run(settings, key, args.runs, args.requests)
    load = os.getloadavg()
    print(f"\n{args.files} files, medians of {args.runs} runs x {args.requests} requests (ms); "
          f"load average {load[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'scenario':<22}{'matches':>9}{'HTTP p50':>10}{'HTTP p95':>10}{'SQLite p50':>12}{'SQLite p95':>12}")
    for name, row in table.items():
        print(f"{name:<22}{row['matches']:>9}{row['http_p50']:>10.2f}{row['http_p95']:>10.2f}"
              f"{row['raw_p50']:>12.2f}{row['raw_p95']:>12.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"files": args.files, "runs": args.runs, "requests": args.requests,
           "when": datetime.now(UTC).isoformat(), "load_average": load, "scenarios": table,
           "scenario_params": SCENARIOS}
    (RESULTS / f"search-{args.files}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

