"""Crafted and malformed manifests: verify and restore say what is wrong (a clear error and a
non-zero exit from the CLI, no traceback) and never accept a member a backup does not write,
such as SQLite side files beside the database copy."""

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.backups import cli, tree
from harness.vault import make_settings, migrate

from printstash.backups import restore, service
from printstash.backups.archive import DB_MEMBER, MANIFEST_NAME, Member
from printstash.core.db import Database
from printstash.core.errors import Invalid
from printstash.core.settings import Settings

Lines = list[bytes]
Members = list[tuple[str, bytes]]
Edit = Callable[[Lines, Members], tuple[Lines, Members]]

# Manifest parsing is the same for both databases; these restore over a migrated vault, which
# PostgreSQL refuses before reading (test_backup_postgresql.py).
pytestmark = pytest.mark.sqlite


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    settings = make_settings(tmp_path_factory.mktemp("crafted") / "data")
    migrate(settings)
    (settings.data_dir / "files" / "ab").mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "secrets").mkdir(exist_ok=True)
    (settings.data_dir / "secrets" / "printer_api_keys.fernet").write_bytes(b"k" * 44)
    db = Database.from_settings(settings)
    info = service.create_backup(settings, db)
    db.dispose()
    return settings, info.path


def _craft(archive: Path, out: Path, edit: Edit, *, trailer: bytes | None = None) -> Path:
    """The archive rewritten by `edit` (manifest body lines, members), the trailer recomputed
    as an attacker would (or the one given), written by a plain tar writer."""
    with tarfile.open(archive) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    manifest = members.pop(0)[1].splitlines(keepends=True)
    body = manifest[:-1]
    body, members = edit(body, members)
    if trailer is None:
        trailer = json.dumps({"manifest_sha256": hashlib.sha256(b"".join(body)).hexdigest()}).encode() + b"\n"
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in [(MANIFEST_NAME, b"".join(body) + trailer), *members]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def _line(path: str, data: bytes) -> bytes:
    return Member(path, len(data), hashlib.sha256(data).hexdigest()).line()


def _add(path: str, data: bytes, at: int | None = None) -> Edit:
    def edit(body: Lines, members: Members) -> tuple[Lines, Members]:
        where = len(members) if at is None else at
        return [*body[:1 + where], _line(path, data), *body[1 + where:]], \
            [*members[:where], (path, data), *members[where:]]
    return edit


def _replace_line(index: int, line: bytes) -> Edit:
    def edit(body: Lines, members: Members) -> tuple[Lines, Members]:
        return [*body[:index], line, *body[index + 1:]], members
    return edit


def _header(change: dict[str, object]) -> Edit:
    def edit(body: Lines, members: Members) -> tuple[Lines, Members]:
        head = {**json.loads(body[0]), **change}
        return [json.dumps(head).encode() + b"\n", *body[1:]], members
    return edit


def _db_bytes(members: Members) -> bytes:
    return dict(members)[DB_MEMBER]


def _wal_after_db(body: Lines, members: Members) -> tuple[Lines, Members]:
    return _add("db/printstash.sqlite-wal", b"\0" * 4096, at=1)(body, members)


def _db_twice(body: Lines, members: Members) -> tuple[Lines, Members]:
    return _add(DB_MEMBER, _db_bytes(members))(body, members)


def _db_not_first(body: Lines, members: Members) -> tuple[Lines, Members]:
    return _add("files/ab/" + "ab" * 32, b"x", at=0)(body, members)


def _object_line(key: str) -> bytes:
    return json.dumps({"object": key, "size": 1, "sha256": "a" * 64}).encode() + b"\n"


def _object(key: str) -> Edit:
    """An object line (what a bucket backup lists instead of holding) after the members."""
    def edit(body: Lines, members: Members) -> tuple[Lines, Members]:
        return [*body, _object_line(key)], members
    return edit


def _member_after_object(body: Lines, members: Members) -> tuple[Lines, Members]:
    path = "files/cd/" + "cd" * 32
    return [*body, _object_line("files/ab/" + "ab" * 32), _line(path, b"x")], [*members, (path, b"x")]


CASES: dict[str, tuple[Edit, str]] = {
    "member named dot": (_add(".", b"x"), "'.'"),
    "member named dot-dot": (_add("files/..", b"x"), "outside the data layout"),
    "hidden member": (_add("files/ab/.hidden", b"x"), "outside the data layout"),
    "non-JSON line": (_replace_line(1, b"{not json\n"), "not JSON"),
    "entry without path": (_replace_line(1, b'{"size": 1, "sha256": "' + b"a" * 64 + b'"}\n'), "no path"),
    "non-object entry": (_replace_line(1, b"[1, 2]\n"), "not a JSON object"),
    "size is text": (_replace_line(1, b'{"path": "db/printstash.sqlite", "size": "1", "sha256": "x"}\n'),
                     "no valid size"),
    "counts null": (_header({"counts": None}), "counts"),
    "counts without bytes": (_header({"counts": {"members": 1}}), "counts.bytes"),
    "wal beside the database": (_wal_after_db, "printstash.sqlite-wal"),
    "journal beside the database": (_add("db/printstash.sqlite-journal", b"\0" * 512), "sqlite-journal"),
    "database twice": (_db_twice, "database copy comes first, once"),
    "database not first": (_db_not_first, "database copy comes first, once"),
    "unknown root": (_add("backups/x.tar", b"x"), "outside the data layout"),
    "object in secrets": (_object("secrets/printer_api_keys.fernet"), "not under files/ or thumbs/"),
    "object named dot-dot": (_object("files/../db/printstash.sqlite"), "outside the data layout"),
    "object without key": (_object(""), "no object"),
    "member after an object": (_member_after_object, "after the objects"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verify_and_restore_refuse_with_a_clear_message(source: tuple[Settings, Path], tmp_path: Path,
                                                        case: str) -> None:
    settings, archive = source
    edit, expect = CASES[case]
    crafted = _craft(archive, tmp_path / "crafted.tar", edit)
    target = make_settings(tmp_path / "target")
    migrate(target)
    before = tree(target.data_dir)
    for action, where in ((restore.verify_backup, settings), (restore.restore_backup, target)):
        with pytest.raises(Invalid) as caught:
            action(where, crafted)
        assert caught.value.code == "backup_corrupt" and expect in caught.value.detail, caught.value.detail
    assert tree(target.data_dir) == before
    assert not list(target.data_dir.glob(".restore-*")) and not list(target.data_dir.glob("before-restore-*"))


def test_a_trailer_without_a_valid_checksum_is_refused(source: tuple[Settings, Path], tmp_path: Path) -> None:
    settings, archive = source
    for trailer in (b'{"manifest_sha256": 5}\n', b'{"manifest_sha256": null}\n', b'"done"\n'):
        crafted = _craft(archive, tmp_path / "t.tar", lambda b, m: (b, m), trailer=trailer)
        with pytest.raises(Invalid) as caught:
            restore.verify_backup(settings, crafted)
        detail = caught.value.detail
        assert caught.value.code == "backup_corrupt", detail
        assert "trailer" in detail or "not a JSON object" in detail, detail


@pytest.mark.parametrize(("case", "command"), [("member named dot", "verify"), ("counts null", "restore"),
                                               ("non-JSON line", "verify"), ("wal beside the database", "restore")])
def test_the_cli_exits_non_zero_without_a_traceback(source: tuple[Settings, Path], tmp_path: Path,
                                                     case: str, command: str) -> None:
    _, archive = source
    crafted = _craft(archive, tmp_path / "crafted.tar", CASES[case][0])
    target = make_settings(tmp_path / "target")
    migrate(target)
    done = cli(target.data_dir, "backup", command, str(crafted))
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and "cannot be used" in done.stderr and CASES[case][1] in done.stderr
