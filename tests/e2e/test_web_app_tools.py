"""Issue 18's working tools in a real browser against the real api, worker, vite preview and a
real Moonraker 0.11.0 + Klippy: the library's list view and selection (thumbnails, sortable
columns, select all, trash with Undo, zip download, tags), the printer page at Mainsail's
level (layer, times, temperature graph and sensors, webcam, print a file), the Backups page
(verify, download, delete, policy, restore procedure) and every action by keyboard."""

import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2ekit import Stack, shot, shot_both_themes, sideways_when_settled, sign_in
from harness.camera import Camera, webcam
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter, klipper_printer
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

MANIFEST = {f["id"]: f for f in json.loads((GCODE_FIXTURES / "manifest.json").read_text())["files"]}
# Files no other browser test uploads or renames, so their names here are the fixture names.
SELECTION = ["prusa_cylinder_0.15mm_PETG_thumbs", "cura_cube20_0.20mm_ender3", "cura_tower_0.28mm_ender3_PETG",
             "cura_cone_0.06mm_ender3"]
TAG = "e2e-selection"
TINYBOX = GCODE_FIXTURES / "klipper" / "klipper_prusa_tinybox_0.20mm_noextrusion.gcode"
HEADERS = {"X-Requested-With": "e2e"}


def fixture_path(fixture_id: str) -> Path:
    return GCODE_FIXTURES / MANIFEST[fixture_id]["file"]


def upload(page: Page, path: Path) -> dict:
    """Set-up through the api with the page's own session (the checks are in the page)."""
    answer = page.request.post("/api/v1/files", headers=HEADERS, multipart={
        "file": {"name": path.name, "mimeType": "text/x-gcode", "buffer": path.read_bytes()}})
    assert answer.status in (200, 201), answer.text()
    return answer.json()


ROW_NAMES = "() => [...document.querySelectorAll('table.file-table tbody tr td.break > a')].map((a) => a.textContent)"


def expect_rows(page: Page, names: list[str]) -> None:
    """The table lists exactly these files in this order (once the new page has come)."""
    page.wait_for_function(f"want => JSON.stringify(({ROW_NAMES})()) === JSON.stringify(want)", arg=names)


# ---- 1. the list view and the selection --------------------------------------------------------

def test_list_view_sorts_selects_trashes_with_undo_downloads_and_tags(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    files = {fixture_id: upload(page, fixture_path(fixture_id)) for fixture_id in SELECTION}
    ids = [f["id"] for f in files.values()]
    tagged = page.request.post("/api/v1/tags/bulk", headers=HEADERS, data={"file_ids": ids, "add": [TAG]})
    assert tagged.ok, tagged.text()
    names = {fixture_id: fixture_path(fixture_id).name for fixture_id in SELECTION}
    sizes = {names[f]: fixture_path(f).stat().st_size for f in SELECTION}

    page.goto(f"/?tag={TAG}")
    page.get_by_role("button", name="List").click()
    table = page.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(len(SELECTION))
    # The thumbnail drawn in the row: the smallest one still sharp at 48 px (manifest sizes).
    thumbs = MANIFEST[SELECTION[0]]["thumbnails_injected"]
    width = min(t["width"] for t in thumbs if t["width"] >= 96)
    preview = table.get_by_role("img", name=f"Preview of {names[SELECTION[0]]}")
    expect(preview).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") == width

    # Column headers sort, and say how.
    table.get_by_role("button", name="Name").click()
    expect(page).to_have_url(re.compile(r"sort=name(&|$)"))
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Name")
    expect_rows(page, sorted(sizes))
    table.get_by_role("button", name="Name").click()
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Name")
    expect(page).to_have_url(re.compile(r"sort=-name"))
    expect_rows(page, sorted(sizes, reverse=True))
    table.get_by_role("button", name="Size").click()
    expect(page).to_have_url(re.compile(r"sort=-size"))
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Size")
    expect_rows(page, sorted(sizes, key=lambda name: -sizes[name]))
    shot(page, "18-list-view-sorted")

    # Select all on the page: one zip of exactly those files, and a tag for all of them.
    page.get_by_label("Select all on this page").check()
    bar = page.get_by_role("form", name="Selected files")
    expect(bar).to_contain_text(f"{len(SELECTION)} selected")
    with page.expect_download() as download:
        bar.get_by_role("link", name="Download as zip").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert sorted(archive.namelist()) == sorted(sizes)
    for fixture_id in SELECTION:
        assert archive.read(names[fixture_id]) == fixture_path(fixture_id).read_bytes()
    bar.get_by_label("Tag for the selected files").fill("checked-in-list")
    bar.get_by_role("button", name="Add tag").click()
    expect(bar).to_contain_text(f"{len(SELECTION)} files: {len(SELECTION)} tags added")
    expect(table.locator("tbody tr").filter(has_text="checked-in-list")).to_have_count(len(SELECTION))
    bar.get_by_role("button", name="Clear selection").click()
    expect(bar).to_have_count(0)

    # Two to the trash, then Undo: exactly those two come back.
    gone = [names[SELECTION[1]], names[SELECTION[2]]]
    for name in gone:
        page.get_by_label(f"Select {name}").check()
    bar.get_by_role("button", name="Move to trash").click()
    toast = page.get_by_role("status", name="Trash")
    expect(toast).to_contain_text("Moved 2 files to the trash.")
    expect(table.locator("tbody tr")).to_have_count(len(SELECTION) - 2)
    trash = {f["id"] for f in page.request.get("/api/v1/files/trash").json()["items"]}
    assert {files[SELECTION[1]]["id"], files[SELECTION[2]]["id"]} <= trash
    shot(page, "18-undo-toast")
    expect(toast.get_by_role("button", name="Undo")).to_be_focused()  # the trash button went with the selection
    page.keyboard.press("Enter")
    expect(toast).to_contain_text("Restored 2 files.")
    expect(table.locator("tbody tr")).to_have_count(len(SELECTION))
    trash = {f["id"] for f in page.request.get("/api/v1/files/trash").json()["items"]}
    assert not {files[SELECTION[1]]["id"], files[SELECTION[2]]["id"]} & trash

    # The grid selects too.
    page.get_by_role("button", name="Grid").click()
    card = page.locator(".file-card").filter(has_text=names[SELECTION[3]])
    card.get_by_label(f"Select {names[SELECTION[3]]}").check()
    expect(page.get_by_role("form", name="Selected files")).to_contain_text("1 selected")
    one = page.get_by_role("form", name="Selected files")
    expect(one.get_by_role("link", name="Download", exact=True)).to_be_visible()
    page.get_by_role("button", name="List").click()  # leave the list view chosen, as before this test


# ---- 2. the printer page -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def klipper() -> Iterator[KlipperPrinter]:
    with klipper_printer() as real:
        yield real


@pytest.fixture(scope="module")
def camera(klipper: KlipperPrinter) -> Iterator[Camera]:
    """The printer's camera streamer, in Moonraker's webcam list as Mainsail adds one."""
    with webcam() as cam:
        resp = klipper.http.post("/server/webcams/item", json={
            "name": "bed cam", "service": "mjpegstreamer-adaptive",
            "stream_url": cam.url("/stream"), "snapshot_url": cam.url("/snapshot")})
        assert resp.status_code == 200, resp.text
        yield cam


def total_layers(path: Path) -> int:
    """What the slicer told Klipper (SET_PRINT_STATS_INFO TOTAL_LAYER=…) in the fixture."""
    return int(re.search(r"SET_PRINT_STATS_INFO TOTAL_LAYER=(\d+)", path.read_text())[1])  # type: ignore[index]


def chamber_celsius(klipper: KlipperPrinter) -> float:
    return int((klipper.root / "chamber_temp").read_text()) / 1000


def test_printer_page_shows_sensors_graph_webcam_and_prints_a_file(page: Page, browser: Browser, stack: Stack,
                                                                    klipper: KlipperPrinter, camera: Camera) -> None:
    sign_in(page, stack)
    upload(page, TINYBOX)
    created = page.request.post("/api/v1/printers", headers=HEADERS,
                                data={"name": "Bench Voron", "provider": "moonraker", "url": klipper.url})
    assert created.status == 201, created.text()
    printer_id = created.json()["id"]
    page.goto(f"/printers/{printer_id}")
    status = page.get_by_role("region", name=re.compile("^Status"))
    expect(status.locator(".badge")).to_have_text("Standby")

    temps = page.get_by_role("region", name="Temperatures")
    chamber = temps.get_by_role("row").filter(has=page.get_by_role("rowheader", name=re.compile("Chamber")))
    expect(chamber).to_contain_text(f"{chamber_celsius(klipper):.1f} °C")
    expect(chamber).to_contain_text("Sensor")
    graph = temps.get_by_role("img", name=re.compile(r"^Temperatures over the last"))
    expect(graph).to_be_visible()
    assert graph.locator("polyline").first.get_attribute("points")

    cam = page.get_by_role("region", name="Webcam").get_by_role("img", name="Webcam bed cam")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=cam.element_handle())
    assert cam.evaluate("img => img.naturalWidth") == 64  # harness/camera.py's frames
    served = camera.snapshots_served
    page.wait_for_timeout(4500)  # two refreshes: the picture is live, not a still
    assert camera.snapshots_served >= served + 2
    shot(page, "18-printer-page-idle")

    # Print a file from this page: find it in the library, send it.
    klipper.gcode("M220 S600")  # 6x speed: a print of seconds, not minutes
    finder = page.get_by_role("region", name="Print a file")
    finder.get_by_label("Find a file to print").fill("tinybox")
    finder.get_by_role("button", name=f"Print {TINYBOX.name}").click()
    expect(status.locator(".badge")).to_have_text("Printing")
    expect(status).to_contain_text(re.compile(rf"Layer\s*\d+ of {total_layers(TINYBOX)}"))
    expect(status).to_contain_text(re.compile(r"Printing for\s*\d+[smhd]"))  # elapsed, e.g. "12s"
    expect(status).to_contain_text(re.compile(r"Time left\s*\d+[smhd]"))
    expect(page.get_by_role("region", name="Current file")).to_contain_text(TINYBOX.name)
    expect(page.get_by_role("region", name="Print a file")).to_have_count(0)  # busy: nothing to send now
    shot(page, "18-printer-page-printing")
    shot_both_themes(page, "printer-detail-printing")

    # The same page on a phone, printing, with graph and webcam: nothing scrolls sideways.
    phone = browser.new_context(base_url=stack.web, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        small = phone.new_page()
        sign_in(small, stack)
        small.goto(f"/printers/{printer_id}")
        expect(small.get_by_role("region", name="Temperatures").get_by_role("img")).to_be_visible()
        expect(small.get_by_role("region", name="Webcam").get_by_role("img")).to_be_visible()
        found = sideways_when_settled(small)
        assert found["page"] <= 390 and not found["wide"], found
        shot(small, "18-phone-printer-page")
    finally:
        phone.close()
    expect(status.locator(".badge")).to_have_text(re.compile("Complete"), timeout=90_000)
    expect(page.get_by_role("region", name="Print a file")).to_be_visible()  # idle again


# ---- 3. the Backups page -----------------------------------------------------------------------

def test_backups_page_verifies_downloads_deletes_and_explains(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.goto("/backups")
    page.get_by_role("button", name="Back up now").click()
    created = page.get_by_text(re.compile(r"Backup (printstash-\S+\.tar) created"))
    expect(created).to_be_visible(timeout=60_000)
    name = re.search(r"printstash-\S+\.tar", created.inner_text())[0]  # type: ignore[index]
    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_role("button", name=f"Verify {name}").click()
    expect(row).to_contain_text(re.compile(r"Intact: \d+ members"), timeout=60_000)
    on_disk = stack.data_dir / "backups" / name
    with page.expect_download() as download:
        row.get_by_role("link", name=f"Download {name}").click()
    assert Path(download.value.path()).read_bytes() == on_disk.read_bytes()

    policy = page.get_by_role("region", name="Schedule and retention")
    minute, hour = ["0", "3", "*", "*", "*"][:2]  # VAULT_BACKUP_SCHEDULE's default (docs/configuration.md)
    expect(policy).to_contain_text(f"every day at {int(hour):02d}:{int(minute):02d} UTC; next ")
    expect(policy).to_contain_text("the newest 7 scheduled backups")
    expect(policy).to_contain_text(str(stack.data_dir / "backups"))
    restore = page.get_by_role("region", name="Restoring a backup")
    expect(restore).to_contain_text("printstash backup restore FILE")
    expect(restore).to_contain_text("Stop the api and worker")
    shot(page, "18-backups-page")

    row.get_by_role("button", name=f"Delete {name}").click()  # the confirm dialog is accepted
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)
    assert not on_disk.exists()
    assert name not in {b["name"] for b in page.request.get("/api/v1/backups").json()["items"]}


# ---- 4. the keyboard ---------------------------------------------------------------------------

MARK_INTERACTIVE = """() => {
  const all = [...document.querySelectorAll('a[href], button, input, select, textarea, summary')];
  const wanted = all.filter((el) => {
    if (el.disabled || el.tabIndex < 0 || el.closest('[aria-hidden=true], [inert]')) return false;
    const closed = el.closest('details:not([open])');  // folded away: only its summary shows
    if (closed && !(el.tagName === 'SUMMARY' && el.parentElement === closed)) return false;
    const rect = el.getBoundingClientRect();
    const hiddenInput = el.matches('.sr-only-input');  // a styled file input: its label is the target
    return hiddenInput || (rect.width > 0 && rect.height > 0 && getComputedStyle(el).visibility !== 'hidden');
  });
  wanted.forEach((el, i) => el.setAttribute('data-kb', String(i)));
  const named = (el) => el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40) || el.id;
  return wanted.map((el) => `${el.tagName.toLowerCase()} ${named(el)}`);
}"""


def tab_through(page: Page, limit: int = 400) -> set[str]:
    """Press Tab from the top of the page until focus comes round again; the marks reached."""
    page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")
    reached: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        mark = page.evaluate("document.activeElement?.getAttribute('data-kb') ?? ''")
        if mark and mark in reached[:1]:
            break
        if mark:
            reached.append(mark)
    return set(reached)


def test_every_action_is_reachable_and_works_by_keyboard(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    some_file = upload(page, fixture_path(SELECTION[0]))["id"]
    tagged = page.request.post("/api/v1/tags/bulk", headers=HEADERS, data={"file_ids": [some_file], "add": [TAG]})
    assert tagged.ok, tagged.text()
    printers = page.request.get("/api/v1/printers").json()["items"]
    paths = ["/", "/tags", "/trash", "/upload", "/printers", "/status", "/api-keys", "/account", "/backups",
             "/users", f"/files/{some_file}"] + [f"/printers/{p['id']}" for p in printers[:1]]
    for path in paths:
        page.goto(path)
        page.get_by_role("heading", level=1).first.wait_for()
        expect(page.locator("p.muted[role=status]")).to_have_count(0)
        page.wait_for_timeout(500)  # what loads after the first answers (webcam link, history)
        controls = page.evaluate(MARK_INTERACTIVE)
        reached = tab_through(page)
        missing = [c for i, c in enumerate(controls) if str(i) not in reached]
        assert not missing, f"{path}: not reachable with Tab: {missing}"

    # Actions by Enter and Space alone: view, selection, sorting, a page-level button.
    page.goto(f"/?tag={TAG}")
    page.get_by_role("heading", name="Library").wait_for()
    expect(page.get_by_label("Select all on this page")).to_be_visible()  # up and listening for keys
    page.keyboard.press("/")
    expect(page.get_by_label("Search files")).to_be_focused()
    page.get_by_role("button", name="List").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="List")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Select all on this page").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("form", name="Selected files")).to_contain_text("selected")
    page.get_by_role("button", name="Clear selection").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("form", name="Selected files")).to_have_count(0)
    page.get_by_role("table").get_by_role("button", name="Uploaded").focus()
    page.keyboard.press("Enter")  # newest first is the order now: Enter turns it round
    expect(page).to_have_url(re.compile(r"sort=uploaded_at(&|$)"))
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Uploaded")
    page.get_by_role("link", name="Backups").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Backups")).to_be_visible()
    page.get_by_role("button", name="Back up now").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Backup .+ created"))).to_be_visible(timeout=60_000)
