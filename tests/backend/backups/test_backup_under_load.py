"""Consistency under load: uploads keep arriving at a real uvicorn api while backups run →
every archive's database and files agree (no row without its file, no thumbnail row without
its image), and no upload failed because of the backup."""

import hashlib
import threading
from pathlib import Path

import httpx
from backupkit import fill
from harness.backups import fixture_paths
from harness.processes import live_api
from harness.vault import add_user_with_key, make_settings

from printstash.backups import restore, service
from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.core.storage import content_path
from printstash.library.models import File, Thumbnail


def _api_key(settings: Settings) -> str:
    return add_user_with_key(settings, "uploader", "admin", "a long enough password")


class Uploader(threading.Thread):
    """Uploads real fixtures, each made unique by a comment line, until told to stop."""

    def __init__(self, base: str, key: str) -> None:
        super().__init__(daemon=True)
        self.base, self.key = base, key
        self.stop, self.statuses = threading.Event(), []  # type: ignore[var-annotated]
        # Files with thumbnails first: whichever uploads land in a snapshot, the first one does,
        # so the thumbnail check below never depends on how many uploads the machine managed.
        sources = [p.read_bytes() for p in fixture_paths()]
        self.sources = sorted(sources, key=lambda data: b"thumbnail begin" not in data[:1 << 20])

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers={"X-Api-Key": self.key}, timeout=60) as client:
            n = 0
            while not self.stop.is_set():
                body = f"; upload {n}\n".encode() + self.sources[n % len(self.sources)]
                resp = client.post("/api/v1/files", files={"file": (f"load-{n}.gcode", body, "text/x-gcode")})
                self.statuses.append(resp.status_code)
                n += 1


def _check_agrees(archive: Path, target: Settings) -> tuple[int, int]:
    restore.restore_backup(target, archive)
    db = Database.from_settings(target)
    with db.read() as session:
        files = session.query(File).all()
        thumbs = session.query(Thumbnail).all()
        for f in files:
            data = content_path(target, f.sha256).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f.sha256 and len(data) == f.size
        for t in thumbs:
            assert (target.thumbs_dir / t.path).stat().st_size == t.size
    db.dispose()
    return len(files), len(thumbs)


def test_uploads_during_backups_leave_consistent_archives(vault: Settings, tmp_path: Path) -> None:
    fill(vault, 160)  # so each backup takes a while
    key = _api_key(vault)
    db = Database.from_settings(vault)
    with live_api(vault.data_dir) as base:
        uploader = Uploader(base, key)
        uploader.start()
        made = []
        for _ in range(3):
            before = len(uploader.statuses)
            made.append(service.create_backup(vault, db))
            made[-1] = (made[-1], len(uploader.statuses) - before)
        uploader.stop.set()
        uploader.join(60)
    db.dispose()
    assert uploader.statuses and set(uploader.statuses) == {201}
    assert sum(during for _, during in made) > 0  # uploads really overlapped the backups
    counts = [_check_agrees(info.path, make_settings(tmp_path / f"r{i}" / "data"))
              for i, (info, _) in enumerate(made)]
    assert counts == sorted(counts) and counts[-1][0] > counts[0][0]
    assert counts[-1][1] > 0  # PrusaSlicer fixtures carry thumbnails: those were checked too
