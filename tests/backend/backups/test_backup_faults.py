"""Faults: kill -9 midway, a corrupted byte, a truncated archive, a full disk, a running api."""

import hashlib
import io
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from backupkit import data_files, fill
from fastapi.testclient import TestClient
from harness.backups import archives, cli, dump_db, populate, tree
from harness.paths import BACKEND
from harness.processes import vault_env
from harness.vault import add_user_with_key, make_settings, migrate

from printstash.app import create_app
from printstash.backups import restore, service
from printstash.backups.archive import DB_MEMBER, MANIFEST_NAME, Member
from printstash.core.db import Database
from printstash.core.errors import Invalid
from printstash.core.settings import Settings

# The SQLite file's faults (integrity_check, restoring over a populated vault, a full disk under
# SQLite); a PostgreSQL dump's: test_backup_postgresql.py.
pytestmark = pytest.mark.sqlite


def _start_backup(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "printstash.cli", "backup", "create"], cwd=BACKEND,
                            env=vault_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_partial(settings: Settings, proc: subprocess.Popen[str], min_bytes: int) -> Path:
    """The temp archive once it holds `min_bytes`; fails if the backup finished first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in settings.backups_dir.glob(".tmp-*.tar"):
            try:
                if path.stat().st_size >= min_bytes:
                    return path
            except FileNotFoundError:
                pass
        assert proc.poll() is None, f"backup ended before it could be interrupted: {proc.communicate()}"
        time.sleep(0.001)
    raise TimeoutError("no partial archive appeared")


def test_kill_9_midway_leaves_no_archive_and_next_backup_works(vault: Settings) -> None:
    fill(vault, 240)
    proc = _start_backup(vault.data_dir)
    partial = _wait_for_partial(vault, proc, 4 * 1024 * 1024)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert partial.exists()  # the killed process left its temp file …
    assert archives(vault) == []  # … which does not look like a backup
    listed = cli(vault.data_dir, "backup", "list")
    assert listed.returncode == 0 and "no backups" in listed.stdout

    again = cli(vault.data_dir, "backup", "create")
    assert again.returncode == 0, again.stderr
    assert len(archives(vault)) == 1
    assert list(vault.backups_dir.glob(".tmp-*")) == []  # cleaned by the next backup
    assert cli(vault.data_dir, "backup", "verify", archives(vault)[0].name).returncode == 0


@dataclass
class Populated:
    settings: Settings
    archive: Path
    tree: dict[str, str]
    rows: dict[str, list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Populated:
    """One vault with real fixtures and its backup, shared: these tests only read them."""
    settings = make_settings(tmp_path_factory.mktemp("faults") / "data")
    migrate(settings)
    for client in _admin_client(settings):
        populate(client, settings)
    db = Database.from_settings(settings)
    info = service.create_backup(settings, db)
    db.dispose()
    return Populated(settings, info.path, tree(settings.data_dir), dump_db(settings))


def _admin_client(settings: Settings) -> Iterator[TestClient]:
    key = add_user_with_key(settings, "admin", "admin", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        yield client


def _member_offset(archive: Path, prefix: str) -> int:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith(prefix) and m.size > 1000)
        return member.offset_data + member.size // 2


def _flip(archive: Path, offset: int, out: Path) -> Path:
    data = bytearray(archive.read_bytes())
    data[offset] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def _untouched(vault: Populated) -> None:
    assert tree(vault.settings.data_dir) == vault.tree
    assert dump_db(vault.settings) == vault.rows
    data_dir = vault.settings.data_dir
    assert not list(data_dir.glob(".restore-*")) and not list(data_dir.glob("before-restore-*"))


def _refused(vault: Populated, bad: Path, expect: str) -> None:
    for action in (restore.verify_backup, restore.restore_backup):
        with pytest.raises(Invalid) as caught:
            action(vault.settings, bad)
        assert caught.value.code == "backup_corrupt" and expect in caught.value.detail
    _untouched(vault)


@pytest.mark.parametrize(("where", "expect"), [
    ("files/", "SHA-256 does not match"), ("db/", "SHA-256 does not match"), ("MANIFEST", "manifest"),
])
def test_corrupted_byte_is_refused_by_verify_and_restore(populated: Populated, tmp_path: Path,
                                                         where: str, expect: str) -> None:
    bad = _flip(populated.archive, _member_offset(populated.archive, where), tmp_path / "bad.tar")
    _refused(populated, bad, expect)


def test_corrupted_archive_via_the_cli(populated: Populated, tmp_path: Path) -> None:
    bad = _flip(populated.archive, _member_offset(populated.archive, "files/"), tmp_path / "bad.tar")
    for command in ("verify", "restore"):
        result = cli(populated.settings.data_dir, "backup", command, str(bad))
        assert result.returncode == 1
        assert "bad.tar cannot be used" in result.stderr and "Traceback" not in result.stderr
    _untouched(populated)


@pytest.mark.parametrize("keep", [0.0005, 0.5, 0.99])
def test_truncated_archive_is_refused(populated: Populated, tmp_path: Path, keep: float) -> None:
    cut = tmp_path / "cut.tar"
    data = populated.archive.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    for action in (restore.verify_backup, restore.restore_backup):
        with pytest.raises(Invalid) as caught:
            action(populated.settings, cut)
        assert caught.value.code == "backup_corrupt"
    _untouched(populated)


def test_the_intact_archive_verifies(populated: Populated) -> None:
    head, _ = restore.verify_backup(populated.settings, populated.archive)
    assert head["counts"]["files"] == len([p for p in populated.tree if p.startswith("files/")])


def test_not_an_archive_is_refused(vault: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "printstash-20260101T000000Z-manual.tar"
    junk.write_bytes(b"G28\n" * 1000)
    with pytest.raises(Invalid, match="not a readable tar archive"):
        restore.verify_backup(vault, junk)


def test_restore_refuses_while_the_api_runs(admin_client: TestClient, vault: Settings) -> None:
    assert cli(vault.data_dir, "backup", "create").returncode == 0
    result = cli(vault.data_dir, "backup", "restore", archives(vault)[0].name)
    assert result.returncode == 1
    assert "stop the api and worker first" in result.stderr
    assert not list(vault.data_dir.glob("before-restore-*"))


# ---- a full disk: the data dir on a small tmpfs ---------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=900m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}); disk-full test not possible")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _intact(settings: Settings) -> None:
    conn = sqlite3.connect(settings.sqlite_path)  # type: ignore[arg-type]
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_disk_full_before_the_backup_is_a_clear_refusal(small_disk: Path) -> None:
    settings = make_settings(small_disk / "data")
    migrate(settings)
    fill(settings, 440)  # 440 MiB stored, 900 MiB disk: no room for a copy plus headroom
    before = data_files(settings.data_dir)
    result = cli(settings.data_dir, "backup", "create")
    assert result.returncode == 1
    assert "not enough free space for the backup" in result.stderr and "Traceback" not in result.stderr
    assert data_files(settings.data_dir) == before and archives(settings) == []
    assert list(settings.backups_dir.glob(".tmp-*")) == []
    _intact(settings)


def test_disk_full_during_the_backup_leaves_nothing_and_loses_nothing(small_disk: Path) -> None:
    settings = make_settings(small_disk / "data")
    migrate(settings)
    fill(settings, 320)
    before = data_files(settings.data_dir)
    proc = _start_backup(settings.data_dir)
    _wait_for_partial(settings, proc, 8 * 1024 * 1024)
    proc.send_signal(signal.SIGSTOP)  # hold it while another writer takes the remaining space
    filler = small_disk / "filler"
    _fill_disk(filler)
    proc.send_signal(signal.SIGCONT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "is full" in err and "Traceback" not in err
    assert archives(settings) == [] and list(settings.backups_dir.glob(".tmp-*")) == []
    assert data_files(settings.data_dir) == before
    _intact(settings)
    filler.unlink()
    assert cli(settings.data_dir, "backup", "create").returncode == 0
    assert len(archives(settings)) == 1


def _fill_disk(path: Path) -> None:
    """Take every free byte (unbuffered, so nothing is left to flush on close)."""
    with path.open("wb", buffering=0) as fh:
        for chunk in (1024 * 1024, 4096):
            try:
                while True:
                    fh.write(b"\0" * chunk)
            except OSError:
                pass
    assert shutil.disk_usage(path.parent).free < 64 * 1024


def _with_database(archive: Path, db_bytes: bytes, out: Path) -> Path:
    """The same archive with another database copy and a manifest that matches it, so only
    integrity_check can tell."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    members[DB_MEMBER] = db_bytes
    lines = members.pop(MANIFEST_NAME).splitlines(keepends=True)
    body = [lines[0]] + [Member(p, len(d), hashlib.sha256(d).hexdigest()).line() for p, d in members.items()]
    trailer = json.dumps({"manifest_sha256": hashlib.sha256(b"".join(body)).hexdigest()}).encode() + b"\n"
    manifest = b"".join(body) + trailer
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:  # any tar writer will do
        for name, data in [(MANIFEST_NAME, manifest), *members.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_a_damaged_database_copy_fails_integrity_check(populated: Populated, tmp_path: Path) -> None:
    with tarfile.open(populated.archive) as tar:
        db_bytes = bytearray(tar.extractfile(DB_MEMBER).read())  # type: ignore[union-attr]
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(bytes(db_bytes))
    with sqlite3.connect(copy) as conn:  # a page that surely is a b-tree page: an index's root
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ix_files_name'").fetchone()[0]
    start = (root - 1) * page
    db_bytes[start + 8: start + page] = b"\xa5" * (page - 8)  # garble the b-tree page's cells
    bad = _with_database(populated.archive, bytes(db_bytes), tmp_path / "garbled.tar")
    good = _with_database(populated.archive, tar_db(populated.archive), tmp_path / "same.tar")
    assert restore.verify_backup(populated.settings, good)[0]["counts"]  # the rebuild itself is sound
    _refused(populated, bad, "database copy")


def tar_db(archive: Path) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(DB_MEMBER).read()  # type: ignore[union-attr]
