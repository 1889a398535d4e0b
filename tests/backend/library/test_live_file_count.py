"""The library's total without filters is a counter that migration 0017's triggers keep, not a
count: it must follow every way a file enters or leaves the library, on both backends, also
under concurrent writers and across a migration step."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from harness.vault import downgrade, migrate
from librarykit import API, add_file, fixture_by_id, fixture_path, upload
from sqlalchemy import delete, func, select, update

from printstash.core.db import Database, utcnow
from printstash.core.models import AppState
from printstash.core.settings import Settings
from printstash.library import bulk, service
from printstash.library.models import File
from printstash.library.search import LIVE_FILES

FIXTURES = ["prusa_cube20_0.20mm_PLA_thumbs", "slic3r_cylinder_0.10mm_0.35n", "prusa_tower_0.30mm_ABS_0.6n"]


def counted(db: Database) -> int:
    """The counter, checked against a real count of the files not in the trash."""
    with db.read() as session:
        counter = session.scalar(select(AppState.value).where(AppState.key == LIVE_FILES))
        live = session.scalar(select(func.count()).select_from(File).where(File.deleted_at.is_(None)))
    assert counter == live, f"the counter says {counter}, the files table {live}"
    return int(live or 0)


def total(client: TestClient) -> int:
    answer = client.get(f"{API}/files")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def test_the_total_follows_uploads_trash_restore_and_purge(admin_client: TestClient, db: Database) -> None:
    assert counted(db) == total(admin_client) == 0
    data = [fixture_path(fixture_by_id(name)).read_bytes() for name in FIXTURES]
    ids = [upload(admin_client, f"{name}.gcode", body).json()["id"] for name, body in zip(FIXTURES, data, strict=True)]
    assert counted(db) == total(admin_client) == 3

    again = upload(admin_client, "again.gcode", data[0])
    assert again.status_code in (200, 201), again.text
    assert counted(db) == total(admin_client)

    before = counted(db)
    assert admin_client.delete(f"{API}/files/{ids[0]}").status_code == 204
    assert counted(db) == total(admin_client) == before - 1
    assert admin_client.post(f"{API}/files/trash", json={"file_ids": ids[1:]}).status_code == 200
    assert counted(db) == total(admin_client) == before - 3
    assert admin_client.post(f"{API}/files/restore", json={"file_ids": [ids[1]]}).status_code == 200
    assert counted(db) == total(admin_client) == before - 2
    assert admin_client.delete(f"{API}/files/trash").status_code == 200  # purges ids[0] and ids[2]
    assert counted(db) == total(admin_client) == before - 2


def test_statements_of_many_rows_move_it_by_their_live_rows(db: Database) -> None:
    with db.write() as session:  # one multi-row INSERT on PostgreSQL (SQLAlchemy's insertmanyvalues)
        ids = [add_file(session, f"part{i}.gcode").id for i in range(4)]
        add_file(session, "trashed.gcode", deleted_at=utcnow())
    assert counted(db) == 4
    with db.write() as session:
        session.execute(update(File).where(File.id.in_(ids[:3])).values(deleted_at=utcnow()))
    assert counted(db) == 1
    with db.write() as session:
        session.execute(update(File).values(notes="moved"))  # no file enters or leaves
        session.execute(update(File).where(File.deleted_at.is_not(None)).values(deleted_at=utcnow()))  # still trashed
    assert counted(db) == 1
    with db.write() as session:
        session.execute(update(File).where(File.id == ids[0]).values(deleted_at=None))
    assert counted(db) == 2
    with db.write() as session:
        session.execute(delete(File).where(File.id != ids[0]))  # two trashed rows and one live row
    assert counted(db) == 1


def test_concurrent_writers_lose_no_change(db: Database) -> None:
    """Uploads, trash and restore from several threads at once (on PostgreSQL, transactions
    side by side that each take 0007's and 0017's app_state rows): no lost update, no deadlock."""
    with db.write() as session:
        ids = [add_file(session, f"shared{i}.gcode").id for i in range(8)]

    def churn(worker: int) -> None:
        for round_ in range(5):
            with db.write() as session:
                add_file(session, f"w{worker}-r{round_}.gcode")
                service.trash_file(session, ids[worker])
            with db.write() as session:
                bulk.restore_files(session, [ids[worker]])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(churn, range(8)))
    assert counted(db) == 8 + 8 * 5


def test_the_migration_counts_the_files_already_there(vault: Settings, db: Database) -> None:
    with db.write() as session:
        for i in range(3):
            add_file(session, f"kept{i}.gcode")
        add_file(session, "binned.gcode", deleted_at=utcnow())
    db.dispose()
    downgrade(vault, "0016_pgsearch")
    migrate(vault)
    assert counted(db) == 3
