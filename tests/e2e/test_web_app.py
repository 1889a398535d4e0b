"""The web app in a real browser against the real api, worker, frontend server and printer,
doing the upgrade guide's smoke checks as a person would. Tests run in file order and share
one browser profile: the first one configures the fresh vault through the setup wizard."""

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from e2ekit import ADMIN, Stack, complete_setup, shot, shot_both_themes, sideways_on_a_phone, sign_in
from harness.paths import GCODE_FIXTURES
from harness.peers import KlipperPrinter, klipper_printer
from harness.processes import free_port
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

MANIFEST = json.loads((GCODE_FIXTURES / "manifest.json").read_text())
CUBE = next(f for f in MANIFEST["files"] if f["id"] == "prusa_cube20_0.20mm_PLA_thumbs")
TINYBOX = GCODE_FIXTURES / "klipper" / "klipper_prusa_tinybox_0.20mm_noextrusion.gcode"
CUBE_KLIPPER = GCODE_FIXTURES / "klipper" / "klipper_prusa_cube20_0.30mm_noextrusion.gcode"
UA_FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_setup_wizard_on_a_fresh_vault_then_sign_in(page: Page, stack: Stack) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", name="Set up PrintStash")).to_be_visible()
    expect(page.get_by_text("Where do I find the setup token?")).to_be_visible()
    expect(page.get_by_text("docker compose logs api")).to_be_visible()
    # where `make run` writes the api's log (scripts/run.sh; tests/system/test_make_run.py reads the token there)
    expect(page.locator("details").filter(has_text="Where do I find the setup token?")).to_contain_text(
        "with make run: in that terminal, and in data/api.log")
    shot(page, "01-setup")
    shot_both_themes(page, "setup")
    found = sideways_on_a_phone(page)
    assert found["page"] <= 390 and not found["wide"], f"/setup at 390 px: {found}"

    complete_setup(page, "not-the-token")
    expect(page.get_by_role("alert")).to_contain_text("Setup failed")
    assert httpx.get(f"{stack.api}/api/v1/auth/status").json()["configured"] is False

    page.get_by_label("Setup token").fill(stack.setup_token)
    page.get_by_role("button", name="Create admin and sign in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    expect(page.get_by_text("The library is empty")).to_be_visible()
    assert httpx.get(f"{stack.api}/api/v1/auth/status").json()["configured"] is True
    sessions = page.request.get("/api/v1/auth/sessions").json()  # setup signed in once: no stale session
    assert sessions["total"] == 1 and sessions["items"][0]["current"] is True, sessions
    page.get_by_role("link", name=re.compile("^Your account")).click()  # the page lists that one session only
    expect(page.get_by_role("table", name="Sessions").get_by_role("row")).to_have_count(2)  # header + this browser
    expect(page.get_by_role("table", name="Sessions")).to_contain_text("This browser")

    # Sign out for real, then sign back in through the sign-in page.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/upload")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill("wrong password entirely")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
    shot(page, "02-sign-in-error")
    shot_both_themes(page, "login")
    found = sideways_on_a_phone(page)
    assert found["page"] <= 390 and not found["wide"], f"/login at 390 px: {found}"
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Upload G-code")).to_be_visible()  # back where they were going


def test_system_status_shows_every_component(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.get_by_role("link", name="System").click()
    expect(page.get_by_role("heading", name="System status")).to_be_visible()
    cards = page.get_by_role("list", name="Components")
    for name in ("Database", "Storage", "Backups", "Printer providers"):
        card = cards.get_by_role("listitem").filter(has=page.get_by_role("heading", name=name, exact=True))
        expect(card).to_be_visible()
        expect(card.locator(".badge")).to_have_text(re.compile(r"^(ok|degraded|error|unknown)$"))
    # A brand-new vault has no backup yet: the page must say so, as the api does.
    api_backup = httpx.get(f"{stack.api}/api/v1/health").json()["components"]["backup"]["status"]
    backups = cards.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Backups"))
    expect(backups.locator(".badge")).to_have_text(api_backup)
    shot(page, "03-system-status")


def test_maintenance_mode_pauses_uploads_and_says_so(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.goto("/status")
    page.get_by_role("button", name="Turn maintenance mode on").click()
    expect(page.get_by_text("Maintenance mode is on")).to_be_visible()
    try:
        page.goto("/upload")
        cube = GCODE_FIXTURES / CUBE["file"]
        page.get_by_label("Choose files…").set_input_files([cube])
        alert = page.locator(".upload").filter(has_text=cube.name).get_by_role("alert")
        expect(alert).to_contain_text("Failed:")
        expect(alert).to_contain_text("Maintenance mode (switched on in the web app)")  # the reason, in words
        shot(page, "03b-upload-during-maintenance")
    finally:
        page.goto("/status")
        page.get_by_role("button", name="Turn maintenance mode off").click()
        expect(page.get_by_text("Off: uploads and scheduled jobs run normally.")).to_be_visible()


def test_upload_real_gcode_and_find_it_with_its_metadata(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.get_by_role("link", name="Upload", exact=True).click()
    cube = GCODE_FIXTURES / CUBE["file"]
    page.get_by_label("Choose files…").set_input_files([cube])
    uploads = page.get_by_role("list").filter(has=page.locator(".upload"))
    row = uploads.locator(".upload").filter(has_text=cube.name)
    expect(row).to_contain_text("Uploaded")
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "100")

    # The same content again: the api's duplicate answer is shown, nothing new is stored.
    page.get_by_label("Choose files…").set_input_files([cube])
    expect(uploads.locator(".upload").first).to_contain_text("Already in the library")
    shot(page, "04-upload")

    # Find it by a word of its name, then by its material, with the parsed metadata shown.
    page.get_by_role("link", name="Library").click()
    page.get_by_label("Search files").fill("cube20")
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_text("1 file match")).to_be_visible()
    expected = CUBE["expected"]
    card = results.get_by_role("listitem").filter(has_text=cube.name)
    expect(card).to_contain_text(expected["estimated_time_normal_text"])  # the slicer's own "19m 38s"
    grams = expected["filament_used_g"]
    metres = expected["filament_used_mm"] / 1000
    expect(card).to_contain_text(f"{metres:.1f} m / {grams:.1f} g of {expected['filament_type']}")
    expect(card.get_by_role("img")).to_have_js_property("complete", True)
    assert card.get_by_role("img").evaluate("img => img.naturalWidth") > 0
    shot(page, "05-library-search")

    page.get_by_label("Search files").fill("")
    page.get_by_label("Material").select_option(expected["filament_type"])
    expect(page).not_to_have_url(re.compile(r"[?&]q="))  # the cleared search really is cleared
    expect(page.get_by_label("Sort by")).to_have_value("-uploaded_at")
    expect(results.get_by_role("link", name=cube.name, exact=True)).to_be_visible()
    page.get_by_role("button", name="List").click()
    expect(page.get_by_role("table")).to_contain_text(cube.name)
    page.get_by_label(f"Select {cube.name}").check()
    page.get_by_label("Tag for the selected files").fill("first-layer")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_role("row").filter(has_text=cube.name)).to_contain_text("first-layer")
    shot(page, "06-library-list")
    page.get_by_role("button", name="Grid").click()

    results.get_by_role("link", name=cube.name, exact=True).click()
    expect(page.get_by_role("heading", name=cube.name)).to_be_visible()
    details = page.locator("dl.meta")
    expect(details).to_contain_text(expected["slicer_in_file"])
    expect(details).to_contain_text(f"{expected['layer_height']} mm")
    expect(details).to_contain_text(f"{expected['nozzle_diameter']} mm")
    expect(details).to_contain_text(f"{expected['first_layer_bed_temp']} °C")
    expect(details).to_contain_text(str(expected["layer_count"]))
    big = page.get_by_role("img", name=f"Preview of {cube.name}")
    expect(big).to_have_js_property("complete", True)  # loaded, or naturalWidth is still 0
    assert big.evaluate("img => img.naturalWidth") == max(t["width"] for t in expected["thumbnails"])
    download = page.get_by_role("link", name="Download G-code")
    assert httpx.get(f"{stack.web}{download.get_attribute('href')}").status_code == 401  # not without the session
    with page.expect_download() as info:
        download.click()
    assert info.value.path().read_bytes() == cube.read_bytes()

    # Notes and tags are saved and searchable.
    page.get_by_label("Notes").fill("printed fine on the Ender")
    page.get_by_role("button", name="Save notes").click()
    expect(page.get_by_text("Notes saved.")).to_be_visible()
    page.get_by_placeholder("Add tags, comma separated").fill("calibration")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("list", name="Tags")).to_contain_text("calibration")
    page.get_by_role("button", name=f"Add {cube.name} to favourites").click()
    expect(page.get_by_role("button", name=f"Remove {cube.name} from favourites")).to_be_visible()
    shot(page, "07-file-detail")

    page.get_by_role("link", name="← Library").click()
    page.get_by_label("Tag", exact=True).select_option("calibration")
    expect(results.get_by_role("link", name=cube.name, exact=True)).to_be_visible()

    # Rename the tag across the library; the file carries the new name.
    page.get_by_role("link", name="Tags", exact=True).click()
    page.get_by_label("Name of tag calibration").fill("calibration-cubes")
    page.get_by_role("button", name="Rename").first.click()
    expect(page.get_by_label("Name of tag calibration-cubes")).to_be_visible()
    page.get_by_role("link", name="1 file").first.click()
    expect(page).to_have_url(re.compile(r"tag=calibration-cubes"))
    expect(results.get_by_role("link", name=cube.name, exact=True)).to_be_visible()


def test_upload_error_is_shown_for_a_file_that_is_not_gcode(page: Page, stack: Stack, tmp_path) -> None:
    sign_in(page, stack)
    page.goto("/upload")
    note = tmp_path / "shopping-list.gcode"  # the extension lies; the api sniffs the content
    note.write_text("milk\neggs\nbread\n" * 20)
    page.get_by_label("Choose files…").set_input_files([note])
    row = page.locator(".upload").filter(has_text=note.name)
    expect(row.get_by_role("alert")).to_contain_text("Failed:")
    # The words are the api's own detail (asked again with this session), not a generic failure.
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": note.name, "mimeType": "application/octet-stream", "buffer": note.read_bytes()}})
    assert 400 <= answer.status < 500, answer.status
    expect(row.get_by_role("alert")).to_have_text(f"Failed: {answer.json()['detail']}")
    shot(page, "08-upload-error")
    page.goto("/")
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    expect(page.get_by_role("link", name=note.name, exact=True)).to_have_count(0)  # nothing stored


def test_trash_and_restore_a_file(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.goto("/upload")
    slic3r = GCODE_FIXTURES / "slic3r" / "slic3r_cylinder_0.10mm_0.35n.gcode"
    page.get_by_label("Choose files…").set_input_files([slic3r])
    page.locator(".upload").filter(has_text=slic3r.name).get_by_role("link").click()
    page.get_by_role("button", name="Move to trash").click()  # the confirm dialog is accepted
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    expect(page.get_by_role("link", name=slic3r.name, exact=True)).to_have_count(0)

    page.get_by_role("link", name="Trash").click()
    page.get_by_role("button", name=f"Restore {slic3r.name}").click()
    expect(page.get_by_text("The trash is empty.")).to_be_visible()
    page.get_by_role("link", name="← Library").click()
    expect(page.get_by_role("link", name=slic3r.name, exact=True)).to_be_visible()


def test_api_key_created_shown_once_and_revoked(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("PrusaSlicer desk")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key").input_value()
    assert len(key) >= 20
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    shot(page, "09-api-key-created")
    assert httpx.get(f"{stack.api}/api/v1/auth/me", headers={"X-Api-Key": key}).status_code == 200

    page.get_by_role("button", name="I have saved it").click()
    expect(page.get_by_label("New API key")).to_have_count(0)
    page.reload()
    row = page.get_by_role("row").filter(has_text="PrusaSlicer desk")
    expect(row).to_be_visible()
    assert key not in page.content()  # shown once: never again

    row.get_by_role("button", name="Revoke PrusaSlicer desk").click()
    expect(page.get_by_role("row").filter(has_text="PrusaSlicer desk")).to_have_count(0)
    assert httpx.get(f"{stack.api}/api/v1/auth/me", headers={"X-Api-Key": key}).status_code == 401


def test_backups_page_creates_and_lists_a_backup(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.get_by_role("link", name="Backups").click()
    page.get_by_role("button", name="Back up now").click()
    expect(page.get_by_text(re.compile(r"Backup .+ created"))).to_be_visible(timeout=60_000)
    expect(page.get_by_role("link", name="Download").first).to_be_visible()
    expect(page.get_by_text("Last backup:")).to_contain_text("ok")
    shot(page, "10-backups")


def test_users_page_adds_a_member(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Username").fill("maker")
    page.get_by_label("Password").fill("another long password")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("row").filter(has_text="maker")).to_contain_text("member")
    shot(page, "11-users")


def test_account_page_changes_the_password_and_lists_sessions(page: Page, browser, stack: Stack) -> None:
    sign_in(page, stack)
    # another browser signed in to the same account: a Firefox on Windows, as its User-Agent says
    elsewhere = browser.new_context(base_url=stack.web, user_agent=UA_FIREFOX_WINDOWS)
    try:
        other = elsewhere.new_page()
        other.goto("/login")
        sign_in_as(other, ADMIN[0], ADMIN[1])
        expect(other.get_by_role("heading", name="Library")).to_be_visible()
        page.get_by_role("link", name=re.compile("^Your account")).click()
        sessions = page.get_by_role("table", name="Sessions")
        expect(sessions).to_contain_text("This browser")
        expect(sessions).to_contain_text("Chrome on Linux")  # this Chromium, named as a person names it
        expect(sessions).to_contain_text("Firefox on Windows")
        expect(sessions).not_to_contain_text("Mozilla/5.0")  # no raw User-Agent strings
        # each time the other browser goes to another page (one that asks the api for its list)
        changes = ((ADMIN[1], "a brand new passphrase", "Printers"), ("a brand new passphrase", ADMIN[1], "API keys"))
        for old, new, elsewhere_page in changes:
            page.get_by_label("Current password").fill(old)
            page.get_by_label("New password").fill(new)
            page.get_by_role("button", name="Change password").click()
            expect(page.get_by_label("Current password")).to_have_value("")  # cleared on success only
            notice = page.get_by_text("Password changed.")
            expect(notice).to_contain_text("other browser signed in to your account was signed out")
            # the other sessions are gone, from the list too; only this browser stays
            expect(sessions.get_by_role("row")).to_have_count(2)  # header + this browser
            expect(sessions).to_contain_text("This browser")
            # the other browser's next step takes it to the sign-in page; the new password lets it in
            other.get_by_role("link", name=elsewhere_page, exact=True).click()
            expect(other).to_have_url(re.compile(r"/login$"))
            sign_in_as(other, ADMIN[0], old)
            expect(other.get_by_role("alert")).to_contain_text("Sign-in failed")
            sign_in_as(other, ADMIN[0], new)
            expect(other.get_by_role("heading", name=elsewhere_page, exact=True)).to_be_visible()
    finally:
        elsewhere.close()
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password").fill("whatever comes next")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("Password not changed")
    shot(page, "16-account")


def sign_in_as(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="module")
def printer() -> Iterator[KlipperPrinter]:
    with klipper_printer() as real:
        yield real


def test_printer_detail_live_status_changes_when_a_print_starts(page: Page, context, stack: Stack,
                                                                 printer: KlipperPrinter) -> None:
    sign_in(page, stack)
    # Add the real Moonraker printer as an admin would.
    page.get_by_role("link", name="Printers").click()
    add = page.locator("details").filter(has_text="Add a printer")
    add.wait_for()
    if add.get_attribute("open") is None:  # open by itself while there is no printer
        add.get_by_text("Add a printer").click()
    page.get_by_label("Name").fill("Test Voron")
    # A dead port first: the connection is tested before anything is added, and says why.
    dead = f"http://127.0.0.1:{free_port()}"
    printers_before = page.request.get("/api/v1/printers").json()["total"]
    page.get_by_label("Moonraker address").fill(dead)
    page.get_by_role("button", name="Add printer").click()
    expect(add.get_by_role("alert")).to_contain_text(f"Printer not reached. Could not reach {dead}: cannot connect")
    expect(add.get_by_role("button", name="Add anyway")).to_be_visible()
    assert page.request.get("/api/v1/printers").json()["total"] == printers_before  # nothing added
    shot(page, "11b-printer-not-reached")
    # The real Moonraker + Klippy: what it says about itself is what the page says.
    own = httpx.get(f"{printer.url}/server/info").json()["result"]
    page.get_by_label("Moonraker address").fill(printer.url)
    expect(add.get_by_role("button", name="Add printer")).to_be_visible()  # a new address: checked again
    page.get_by_role("button", name="Test connection").click()
    expect(add.get_by_role("status")).to_have_text(f"Found Moonraker {own['moonraker_version']}; Klippy is ready.")
    page.get_by_role("button", name="Add printer").click()
    expect(add.get_by_role("status")).to_have_text(
        f"Added Test Voron. Found Moonraker {own['moonraker_version']}; Klippy is ready.")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name="Test Voron"))
    expect(card.locator(".badge")).to_have_text("Standby")  # pushed by the events stream
    expect(page.get_by_text("● Live")).to_be_visible()
    shot(page, "12-printers")

    # The printer's page stays open (never reloaded) while the print is started from the file.
    card.get_by_role("link", name="Test Voron").click()
    expect(page.get_by_role("heading", name="Test Voron")).to_be_visible()
    status = page.get_by_role("region", name=re.compile("^Status"))
    expect(status.locator(".badge")).to_have_text("Standby")
    page.evaluate("window.__stillTheSamePage = true")
    printer.gcode("M220 S600")  # 6x speed: printing for ~15 s, not a minute and a half

    other = context.new_page()
    other.goto("/upload")
    other.get_by_label("Choose files…").set_input_files([TINYBOX])
    other.locator(".upload").filter(has_text=TINYBOX.name).get_by_role("link").click()
    other.get_by_label("Printer").select_option(index=1)
    other.get_by_role("button", name="Start print").click()
    expect(other.get_by_text("Sent.")).to_be_visible()
    other.close()

    expect(status.locator(".badge")).to_have_text("Printing")
    expect(page.get_by_role("progressbar", name="Print progress")).to_be_visible()
    expect(page.get_by_role("region", name="Current file")).to_contain_text(TINYBOX.name)
    assert page.evaluate("window.__stillTheSamePage") is True  # updated live, not reloaded
    shot(page, "13-printer-printing")

    # Admin controls reach the real printer and come back through the live status.
    page.get_by_role("button", name="Pause").click()
    expect(status.locator(".badge")).to_have_text("Paused")
    assert printer.print_state() == "paused"
    page.get_by_role("button", name="Resume").click()
    expect(status.locator(".badge")).to_have_text("Printing")
    expect(status.locator(".badge")).to_have_text("Complete", timeout=90_000)
    expect(page.get_by_role("region", name="History")).to_contain_text(TINYBOX.name, timeout=30_000)
    shot(page, "14-printer-complete")

    page.get_by_text("Edit printer").click()
    page.get_by_label("Name").fill("Test Voron 2.4")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Test Voron 2.4")).to_be_visible()


def test_a_member_controls_a_print_and_a_cancelled_print_is_not_counted(page: Page, browser, stack: Stack,
                                                                        printer: KlipperPrinter) -> None:
    """Members may pause, resume and cancel on the printers they may print on (every one);
    the page offers only what applies now; a cancelled print shows in the history as
    cancelled and does not make the file "printed"."""
    sign_in(page, stack)
    headers = {"X-Requested-With": "e2e"}
    created = page.request.post("/api/v1/users", headers=headers,
                                data={"username": "operator", "password": "operator's long password", "role": "member"})
    assert created.status in (201, 409), created.text()
    printers = page.request.get("/api/v1/printers").json()["items"]
    printer_id = next(p["id"] for p in printers if p["url"] == printer.url)
    member = browser.new_context(base_url=stack.web)
    try:
        tab = member.new_page()
        tab.on("dialog", lambda dialog: dialog.accept())  # "Cancel the print?"
        tab.goto("/login")
        tab.get_by_label("Username").fill("operator")
        tab.get_by_label("Password").fill("operator's long password")
        tab.get_by_role("button", name="Sign in").click()
        expect(tab.get_by_role("heading", name="Library")).to_be_visible()
        cube = upload_as(tab, CUBE_KLIPPER)
        tab.goto(f"/printers/{printer_id}")
        status = tab.get_by_role("region", name=re.compile("^Status"))
        expect(status.locator(".badge")).to_have_text(re.compile("^(Standby|Complete|Cancelled)$"))
        expect(tab.get_by_role("group", name="Print controls")).to_have_count(0)  # idle: nothing to pause
        printer.gcode("M220 S100")  # printing long enough to pause and cancel
        started = tab.request.post(f"/api/v1/printers/{printer_id}/print", headers=headers,
                                   data={"file_id": cube["id"]})
        assert started.status == 202, started.text()
        expect(status.locator(".badge")).to_have_text("Printing")
        controls = tab.get_by_role("group", name="Print controls")
        expect(controls.get_by_role("button")).to_have_text(["Pause", "Cancel print"])  # no Resume while printing
        controls.get_by_role("button", name="Pause").click()
        expect(status.locator(".badge")).to_have_text("Paused")
        expect(controls.get_by_role("button")).to_have_text(["Resume", "Cancel print"])
        controls.get_by_role("button", name="Cancel print").click()
        expect(status.locator(".badge")).to_have_text("Cancelled")
        expect(tab.get_by_role("group", name="Print controls")).to_have_count(0)
        expect(tab.get_by_role("region", name="History")).to_contain_text("Cancelled", timeout=30_000)
        shot(tab, "14b-printer-cancelled-by-a-member")

        def imported() -> bool:
            return tab.request.get(f"/api/v1/files/{cube['id']}").json()["last_print_result"] == "cancelled"
        deadline = time.monotonic() + 30
        while not imported() and time.monotonic() < deadline:
            time.sleep(0.5)
        tab.goto(f"/files/{cube['id']}")
        history = tab.get_by_role("region", name="Print history")
        expect(history).to_contain_text("Never printed to the end; last attempt")
        expect(history).to_contain_text("(Cancelled)")
        expect(history.get_by_role("list", name="Prints of this file")).to_contain_text("Cancelled")
        assert tab.request.get(f"/api/v1/files/{cube['id']}").json()["print_count"] == 0
    finally:
        member.close()


def seconds_ago(text: str) -> float:
    """The age in "… last contact just now" / "… last contact 1m 5s ago" (lib/format.ts formatAge)."""
    words = text.split("last contact ", 1)[1]
    if words.startswith("just now"):
        return 0
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", words.split(" ago")[0]))


def _age_s(stamp: str) -> float:
    when = datetime.fromisoformat(stamp)
    return (datetime.now(UTC) - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds()


def test_connection_and_last_contact_are_shown_truthfully(page: Page, stack: Stack, printer: KlipperPrinter) -> None:
    """Last contact, not last change: an idle printer that answers is in contact now however long
    ago its status changed. Once its Moonraker stops, the page says offline (nothing green beside
    it) and the time since the last answer keeps counting. The last test of this module's printer."""
    sign_in(page, stack)
    ours = next(p for p in page.request.get("/api/v1/printers").json()["items"] if p["url"] == printer.url)
    printer_id = ours["id"]

    def status() -> dict:
        return page.request.get(f"/api/v1/printers/{printer_id}").json()["status"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (status()["online"] and _age_s(status()["updated_at"]) >= 25):
        time.sleep(1)  # idle, its status unchanged for a while
    idle = status()
    assert idle["online"] and _age_s(idle["updated_at"]) >= 25, idle
    page.goto(f"/printers/{printer_id}")
    contact = page.get_by_text(re.compile(r"· (connected|not connected), last contact"))
    expect(contact).to_contain_text("· connected, last contact")
    assert seconds_ago(contact.inner_text()) <= 15, contact.inner_text()  # not the 25 s since its last change
    head = page.locator(".page-head")
    expect(head).to_contain_text("● Live updates")

    printer.stop_moonraker()
    badge = page.get_by_role("region", name=re.compile("^Status")).locator(".badge")
    expect(badge).to_have_text("Offline", timeout=60_000)  # pushed by the events stream, not reloaded
    expect(contact).to_contain_text("· not connected, last contact")
    expect(head).to_contain_text("○ Printer offline")
    expect(head.locator(".live-live")).to_have_count(0)
    for red_not_green in (head.locator(".live"), badge):
        colour = red_not_green.evaluate("el => getComputedStyle(el).color")
        red, green = (int(c) for c in re.findall(r"\d+", colour)[:2])
        assert red > green, (colour, red_not_green.evaluate("el => el.outerHTML"))
    first = seconds_ago(contact.inner_text())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and seconds_ago(contact.inner_text()) < first + 10:
        time.sleep(1)
    assert seconds_ago(contact.inner_text()) >= first + 10, contact.inner_text()  # counting, not frozen
    shot(page, "14c-printer-offline")

    page.get_by_role("link", name="← Printers").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=ours["name"], exact=True))
    expect(card.locator(".badge")).to_have_text("Offline")
    expect(card).not_to_contain_text("Live")


def upload_as(page: Page, path: Path) -> dict:
    """Through the api with the page's own session (setup for the checks, not the check)."""
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": path.name, "mimeType": "text/x-gcode", "buffer": path.read_bytes()}})
    assert answer.status in (200, 201), answer.text()
    return answer.json()


def test_sign_in_and_search_by_keyboard_alone(browser, stack: Stack) -> None:
    setup = browser.new_context(base_url=stack.web)
    sign_in(setup.new_page(), stack)  # when run alone: configure the vault first
    setup.close()
    fresh = browser.new_context(base_url=stack.web)
    try:
        page = fresh.new_page()
        page.goto("/login")
        expect(page.get_by_label("Username")).to_be_focused()  # no mouse needed to start
        page.keyboard.type(ADMIN[0])
        page.keyboard.press("Tab")
        page.keyboard.type(ADMIN[1])
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Library")).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        for _ in range(6):  # skip link -> Tags, Trash, Upload files -> search box
            page.keyboard.press("Tab")
            if page.get_by_label("Search files").evaluate("el => el === document.activeElement"):
                break
        expect(page.get_by_label("Search files")).to_be_focused()
    finally:
        fresh.close()


def test_signing_out_in_one_tab_ends_the_session_in_the_other(browser, stack: Stack) -> None:
    profile = browser.new_context(base_url=stack.web)
    try:
        first, second = profile.new_page(), profile.new_page()
        sign_in(first, stack)
        second.goto("/status")
        second.get_by_role("button", name="Sign out").click()
        expect(second).to_have_url(re.compile(r"/login$"))
        # The first tab still shows the library; its next request gets 401 and it asks to sign in.
        first.get_by_role("link", name="Printers").click()
        expect(first).to_have_url(re.compile(r"/login$"))
        expect(first.get_by_role("heading", name="Sign in to PrintStash")).to_be_visible()
    finally:
        profile.close()


def test_phone_width_library_is_readable(browser, stack: Stack) -> None:
    phone = browser.new_context(base_url=stack.web, viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = phone.new_page()
        sign_in(page, stack)
        # Nothing wider than the screen: no sideways scrolling to read any main page.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(page.get_by_label("Search files")).to_be_visible()
        shot(page, "15-phone-library")
        if page.locator(".file-card").count() == 0:  # run alone: give the phone a file to open
            page.goto("/upload")
            page.get_by_label("Choose files…").set_input_files([GCODE_FIXTURES / CUBE["file"]])
            expect(page.locator(".upload").first).to_contain_text(re.compile("Uploaded|Already"))
            page.goto("/")
        page.locator(".file-card a.card-link").first.click()
        expect(page.get_by_role("heading", name="Details")).to_be_visible()
        pages = [("file", None), ("printers", "/printers"), ("status", "/status"), ("upload", "/upload"),
                 ("api-keys", "/api-keys"), ("backups", "/backups"), ("users", "/users")]
        for name, path in pages:
            if path:
                page.goto(path)
            page.get_by_role("heading", level=1).first.wait_for()
            expect(page.locator("p.muted[role=status]")).to_have_count(0)  # nothing still loading
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{name} is {width}px wide on a 390px phone"
            shot(page, f"15-phone-{name}")
    finally:
        phone.close()
