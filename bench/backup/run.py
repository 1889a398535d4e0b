"""Backup and restore throughput of `printstash backup` against GNU tar of the same data dir.

    cd backend && uv run python ../bench/backup/run.py [--gcode-gb 5] [--db-gb 1] [--runs 3] [--cold]

Builds (once, cached in --work, default bench/results/backup-work) a vault of real slicer
G-code (the test fixtures repeated with a unique header line per file, content-addressed like
real uploads, with their files rows) and a database grown to --db-gb by finished-job history
rows. Then, side by side in the same run:
  backup:  printstash create_backup (online snapshot + SHA-256 of every member + fsync)
           vs `tar -cf` of db/ files/ thumbs/ (+ `sync` of the archive, so both are durable)
  restore: printstash restore_backup (hash check + integrity_check + swap + sync)
           vs `tar -xf` into an empty dir (+ `sync -f`)
Throughput = vault bytes (database + stored files) / seconds; medians of --runs.
--cold drops the page cache before each timed step (root only; affects the whole machine).
Prints a table and writes bench/results/backup.json.
"""

import argparse
import hashlib
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from harness.paths import GCODE_FIXTURES  # noqa: E402
from harness.vault import make_settings, migrate  # noqa: E402

from printstash.backups import restore, service  # noqa: E402
from printstash.core.db import Database  # noqa: E402
from printstash.core.settings import Settings  # noqa: E402
from printstash.core.storage import content_path, ensure_layout  # noqa: E402

MIB = 1024 * 1024
FILE_MB = 2  # a typical multi-hour print's G-code


def build_vault(settings: Settings, gcode_gb: float, db_gb: float) -> None:
    marker = settings.data_dir / ".bench-built"
    if marker.exists() and json.loads(marker.read_text()) == [gcode_gb, db_gb]:
        return
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    migrate(settings)
    ensure_layout(settings)
    rows = _write_gcode(settings, int(gcode_gb * 1024 / FILE_MB))
    _grow_db(settings, rows, db_gb)
    marker.write_text(json.dumps([gcode_gb, db_gb]))


def _write_gcode(settings: Settings, count: int) -> list[tuple[str, int, str]]:
    sources = [p.read_bytes() for p in sorted(GCODE_FIXTURES.rglob("*.gcode")) if p.stat().st_size > 100_000]
    rows = []
    for i in range(count):
        src = sources[i % len(sources)]
        body = (f"; bench file {i}\n".encode() + src * (FILE_MB * MIB // len(src) + 1))[: FILE_MB * MIB]
        sha = hashlib.sha256(body).hexdigest()
        path = content_path(settings, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        rows.append((f"bench-{i}.gcode", len(body), sha))
    return rows


def _grow_db(settings: Settings, rows: list[tuple[str, int, str]], db_gb: float) -> None:
    """files rows for the stored G-code, then finished-job history up to the target size."""
    conn = sqlite3.connect(settings.sqlite_path)  # type: ignore[arg-type]
    conn.execute("PRAGMA journal_mode=WAL")
    now = "2026-11-01 00:00:00.000000"
    conn.executemany(
        "INSERT INTO files (name, size, sha256, notes, uploaded_at, parse_status, full_scan_done, metadata_json,"
        " thumbnail_count, print_count, favourite) VALUES (?, ?, ?, '', ?, 'ok', 0, '{}', 0, 0, 0)",
        [(n, s, h, now) for n, s, h in rows])
    payload = json.dumps({"printer_id": 1, "note": "x" * 900})
    target = int(db_gb * 1024 * MIB)
    while settings.sqlite_path.stat().st_size < target:  # type: ignore[union-attr]
        conn.executemany(
            "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_after, created_at)"
            " VALUES ('history.import', ?, 'done', 1, 5, ?, ?)", [(payload, now, now)] * 50_000)
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def vault_bytes(settings: Settings) -> int:
    return sum(p.stat().st_size for root in ("db", "files", "thumbs") for p in (settings.data_dir / root).rglob("*")
               if p.is_file())


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def timed(func: Callable[[], None], cold: bool) -> float:
    """Each step starts with nothing dirty: else it would pay for the writeback of the step
    before it (a warm restore measured 48% of tar after tar -c, ~100% on its own)."""
    if cold:
        drop_caches()
    else:
        subprocess.run(["sync"], check=True)
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def ours_backup(settings: Settings, db: Database) -> Callable[[], None]:
    def run() -> None:
        service.create_backup(settings, db, "manual")
    return run


def tar_backup(settings: Settings, out: Path) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(["tar", "-cf", str(out), "-C", str(settings.data_dir), "db", "files", "thumbs"], check=True)
        subprocess.run(["sync", str(out)], check=True)
    return run


def ours_restore(archive: Path, target: Settings) -> Callable[[], None]:
    def run() -> None:
        restore.restore_backup(target, archive)
    return run


def tar_restore(archive: Path, target: Path) -> Callable[[], None]:
    def run() -> None:
        target.mkdir(parents=True)
        subprocess.run(["tar", "-xf", str(archive), "-C", str(target)], check=True)
        subprocess.run(["sync", "-f", str(target)], check=True)
    return run


def measure(settings: Settings, work: Path, runs: int, cold: bool) -> dict[str, list[float]]:
    db = Database.from_settings(settings)
    times: dict[str, list[float]] = {k: [] for k in ("backup", "tar_c", "restore", "tar_x")}
    tar_out = work / "tar-reference.tar"
    for _ in range(runs):
        shutil.rmtree(settings.backups_dir, ignore_errors=True)
        times["backup"].append(timed(ours_backup(settings, db), cold))
        [archive] = service.list_backups(settings)
        times["tar_c"].append(timed(tar_backup(settings, tar_out), cold))
        for name in ("restored", "tar-extracted"):
            shutil.rmtree(work / name, ignore_errors=True)
        times["restore"].append(timed(ours_restore(archive.path, make_settings(work / "restored")), cold))
        times["tar_x"].append(timed(tar_restore(tar_out, work / "tar-extracted"), cold))
        for name in ("restored", "tar-extracted"):
            shutil.rmtree(work / name, ignore_errors=True)
        tar_out.unlink()
    db.dispose()
    shutil.rmtree(settings.backups_dir, ignore_errors=True)
    return times


def report(size: int, times: dict[str, list[float]], args: argparse.Namespace) -> dict[str, object]:
    med = {k: statistics.median(v) for k, v in times.items()}
    rate = {k: size / MIB / v for k, v in med.items()}
    print(f"vault: {size / 2**30:.2f} GiB (G-code {args.gcode_gb} GB target, database {args.db_gb} GB target); "
          f"runs={args.runs}; cache={'cold' if args.cold else 'warm'}")
    print(f"{'operation':<10} {'printstash s':>13} {'MiB/s':>8} {'tar s':>8} {'MiB/s':>8} {'ratio':>7}")
    for label, ours, ref in (("backup", "backup", "tar_c"), ("restore", "restore", "tar_x")):
        print(f"{label:<10} {med[ours]:>13.2f} {rate[ours]:>8.0f} {med[ref]:>8.2f} {rate[ref]:>8.0f} "
              f"{rate[ours] / rate[ref]:>7.0%}")
    return {"vault_bytes": size, "runs": times, "median_s": med, "mib_per_s": rate,
            "ratio_backup": rate["backup"] / rate["tar_c"], "ratio_restore": rate["restore"] / rate["tar_x"],
            "cold": args.cold, "gcode_gb": args.gcode_gb, "db_gb": args.db_gb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gcode-gb", type=float, default=5.0)
    parser.add_argument("--db-gb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "results" / "backup-work")
    args = parser.parse_args()
    need = (args.gcode_gb + args.db_gb) * 3.2 * 2**30
    free = shutil.disk_usage(args.work.parent).free
    if free < need:
        sys.exit(f"needs about {need / 2**30:.0f} GiB free under {args.work.parent}, {free / 2**30:.0f} GiB free; "
                 "scale down with --gcode-gb/--db-gb")
    settings = make_settings(args.work / "data")
    build_vault(settings, args.gcode_gb, args.db_gb)
    result = report(vault_bytes(settings), measure(settings, args.work, args.runs, args.cold), args)
    out = REPO / "bench" / "results" / f"backup{'-cold' if args.cold else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
