"""The web app as people used to Mainsail, Fluidd and Manyfold expect it (issue 18): every page
on a phone without sideways scrolling, both themes, errors of every action in view, uploads
that follow the person, renaming, the `/` shortcut and tidy units. Real api, worker, vite
preview and Chromium, like test_web_app.py (which runs first and sets the vault up)."""

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2ekit import PHONE, SIDEWAYS, Stack, shot, sign_in
from harness.packages import qoi_thumbnails
from harness.paths import GCODE_FIXTURES, MODEL_FIXTURES
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.e2e

MANIFEST = {f["id"]: f for f in json.loads((GCODE_FIXTURES / "manifest.json").read_text())["files"]}
MODEL_MANIFEST = json.loads((MODEL_FIXTURES / "manifest.json").read_text())["files"]
# Four nozzle sizes (0.25, 0.35, 0.4, 0.6) and two slicers, for facets and units.
LIBRARY = ["prusa_cube20_0.20mm_PLA_thumbs", "prusa_cone_0.05mm_PLA_0.25n_comments", "prusa_tower_0.30mm_ABS_0.6n",
           "slic3r_cylinder_0.10mm_0.35n", "slic3r_cube20_0.25mm"]
# Walk every page of the app (paths filled in once the library has files and a printer).
# Every route of frontend/src/App.tsx but /setup and /login (test_web_app.py's first test, while
# they can be seen) and a print in progress (test_web_app_preview.py, test_web_app_tools.py).
PAGES = ["/", "/?view=list", "/files/{file}", "/files/{file}/preview", "/tags", "/trash", "/upload", "/printers",
         "/printers/{printer}", "/printers/{printer}/preview", "/status", "/api-keys", "/account", "/backups", "/users",
         "/no-such-page"]


def fixture_path(fixture_id: str) -> Path:
    return GCODE_FIXTURES / MANIFEST[fixture_id]["file"]


def upload(page: Page, fixture_id: str) -> dict:
    """Through the api with the page's own session (setup for the checks, not the check)."""
    path = fixture_path(fixture_id)
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": path.name, "mimeType": "text/x-gcode", "buffer": path.read_bytes()}})
    assert answer.status in (200, 201), answer.text()
    return answer.json()


def library_files(page: Page) -> list[dict]:
    return page.request.get("/api/v1/files?limit=200").json()["items"]


@pytest.fixture(scope="module")
def filled(context: BrowserContext, stack: Stack) -> dict:
    """The library holds LIBRARY and one printer exists (unreachable: its page still renders)."""
    page = context.new_page()
    sign_in(page, stack)
    files = {fixture_id: upload(page, fixture_id) for fixture_id in LIBRARY}
    printers = page.request.get("/api/v1/printers").json()["items"]
    if not printers:
        created = page.request.post("/api/v1/printers", headers={"X-Requested-With": "e2e"},
                                    data={"name": "Shelf Prusa", "provider": "moonraker", "url": "http://127.0.0.1:9"})
        assert created.status == 201, created.text()
        printers = [created.json()]
    page.close()
    return {"files": files, "printer": printers[0]["id"]}


def page_paths(filled: dict) -> list[str]:
    some_file = filled["files"][LIBRARY[0]]["id"]
    return [path.format(file=some_file, printer=filled["printer"]) for path in PAGES]


def open_page(page: Page, path: str) -> None:
    if path == "/?view=list":  # the list view is a remembered choice, not a URL
        page.goto("/")
        page.get_by_role("button", name="List").click()
        expect(page.get_by_role("table")).to_be_visible()
        return
    page.goto(path)
    page.get_by_role("heading", level=1).first.wait_for()
    expect(page.locator("p.muted[role=status]")).to_have_count(0)  # nothing still loading


@pytest.fixture
def phone(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.web, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, stack)
    yield page
    context.close()


def test_no_page_scrolls_sideways_on_a_phone(phone: Page, filled: dict) -> None:
    for path in page_paths(filled):
        open_page(phone, path)
        found = phone.evaluate(SIDEWAYS)
        assert found["page"] <= PHONE["width"] and not found["wide"], f"{path} at 390 px: {found}"
    # The Users table's actions are all on screen (they were cut off before).
    open_page(phone, "/users")
    for button in phone.get_by_role("row").filter(has_text="admin").get_by_role("button").all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def theme_colours(page: Page) -> dict:
    return page.evaluate("""() => ({
      scheme: getComputedStyle(document.documentElement).colorScheme,
      background: getComputedStyle(document.documentElement).backgroundColor,
      text: getComputedStyle(document.body).color,
    })""")


def luminance(css: str) -> float:
    red, green, blue = (int(part) for part in re.findall(r"\d+", css)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("system", ["light", "dark"])
def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(browser: Browser, stack: Stack, filled: dict,
                                                                   system: str) -> None:
    context = browser.new_context(base_url=stack.web, color_scheme=system, viewport={"width": 1280, "height": 860})
    try:
        page = context.new_page()
        sign_in(page, stack)
        colours = theme_colours(page)
        dark = luminance(colours["background"]) < 0.3
        assert dark == (system == "dark"), colours  # follows the system until the person chooses
        assert (luminance(colours["text"]) > 0.6) == dark
        toggle = page.get_by_role("button", name="Dark mode")
        expect(toggle).to_have_attribute("aria-pressed", str(system == "dark").lower())
        toggle.click()  # the other theme, chosen by the person
        chosen = "light" if system == "dark" else "dark"
        expect(toggle).to_have_attribute("aria-pressed", str(chosen == "dark").lower())
        page.reload()
        page.get_by_role("heading", name="Library").wait_for()
        colours = theme_colours(page)
        assert (luminance(colours["background"]) < 0.3) == (chosen == "dark"), colours  # remembered
        assert colours["scheme"] == chosen
        if system == "light":  # the reviewers' screenshots: every page in both themes
            for theme in ("dark", "light"):
                page.evaluate(f"localStorage.setItem('printstash-theme', '{theme}')")
                for index, path in enumerate(page_paths(filled)):
                    open_page(page, path)
                    name = path.strip("/").replace("/", "-").replace("?", "") or "library"
                    shot(page, f"theme-{theme}-{index:02d}-{name}")
                    assert page.evaluate("document.documentElement.dataset.theme") == theme
    finally:
        context.close()


def test_best_match_without_words_lists_newest_first(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    page.goto("/?sort=relevance")  # "Best match" with an empty search box, as a bookmark keeps it
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_text(re.compile(r"^\d+ files?$"))).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    sort = page.get_by_label("Sort by")
    expect(sort).to_have_value("-uploaded_at")
    expect(sort.locator("option[value=relevance]")).to_be_disabled()
    newest = max(library_files(page), key=lambda f: f["uploaded_at"])
    expect(results.locator(".file-card").first).to_contain_text(newest["name"])
    # The api agrees: relevance without words is newest first, not an error.
    assert page.request.get("/api/v1/files?sort=relevance").status == 200
    page.get_by_label("Search files").fill("cube20")
    expect(page).to_have_url(re.compile(r"q=cube20"))
    expect(sort).to_have_value("relevance")  # the best match is back when there are words
    expect(sort.locator("option[value=relevance]")).to_be_enabled()


def test_favourite_failure_is_shown(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    name = filled["files"][LIBRARY[0]]["name"]
    page.get_by_label("Search files").fill(name.removesuffix(".gcode"))
    card = page.locator(".file-card").filter(has_text=name)
    # The api is down behind the web server: nginx would answer 502 with its own page.
    page.route("**/api/v1/files/*/favourite", lambda route: route.fulfill(
        status=502, content_type="text/html", body="<html><body>502 Bad Gateway</body></html>"))
    card.get_by_role("button", name=re.compile("favourites$")).click()
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("Favourite not saved")
    expect(alert).to_contain_text("not answering")
    shot(page, "18-favourite-error")


def test_file_page_actions_show_their_errors(page: Page, stack: Stack, filled: dict) -> None:
    """Besides the favourite star (above) and renaming (below): tags and notes say why they were
    not saved, in the api's words, or that the server cannot be reached."""
    sign_in(page, stack)
    file = filled["files"]["prusa_cone_0.05mm_PLA_0.25n_comments"]
    page.goto(f"/files/{file['id']}")
    long_tag = "t" * 65  # one more than a tag may have
    refused = page.request.put(f"/api/v1/files/{file['id']}/tags", headers={"X-Requested-With": "e2e"},
                               data={"tags": [long_tag]})
    assert 400 <= refused.status < 500, refused.text()
    page.get_by_placeholder("Add tags, comma separated").fill(long_tag)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(f"Tags not saved: {refused.json()['detail']}")
    expect(page.get_by_role("list", name="Tags")).not_to_contain_text(long_tag)

    # The api is gone (connection refused) while notes are saved.
    page.route(f"**/api/v1/files/{file['id']}", lambda route: route.abort("connectionrefused")
               if route.request.method == "PATCH" else route.continue_())
    page.get_by_label("Notes").fill("will not arrive")
    page.get_by_role("button", name="Save notes").click()
    alert = page.get_by_role("alert").filter(has_text="Notes not saved")
    expect(alert).to_contain_text("Cannot reach the PrintStash server")
    expect(page.get_by_text("Notes saved.")).to_have_count(0)
    shot(page, "18-file-errors")
    assert page.request.get(f"/api/v1/files/{file['id']}").json()["notes"] != "will not arrive"


def test_qoi_thumbnails_are_drawn_in_the_library_and_on_the_file_page(page: Page, stack: Stack) -> None:
    """PrusaSlicer writes QOI thumbnails for the MK4/MINI/XL, which browsers cannot draw: the
    library serves them as PNG. The G-code: the real cube fixture with its thumbnails as QOI."""
    sign_in(page, stack)
    entry = MANIFEST["prusa_cube20_0.20mm_PLA_thumbs"]
    data = qoi_thumbnails(fixture_path(entry["id"]).read_bytes())
    assert data.count(b"; thumbnail_QOI begin") == len(entry["expected"]["thumbnails"])
    assert b"; thumbnail begin" not in data
    name = "cube20 for the MK4 (QOI).gcode"
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": name, "mimeType": "text/x-gcode", "buffer": data}})
    assert answer.status == 201, answer.text()
    widths = [t["width"] for t in entry["expected"]["thumbnails"]]

    page.get_by_label("Search files").fill("for the MK4")
    card = page.locator(".file-card").filter(has_text=name)
    small = card.get_by_role("img", name=f"Preview of {name}")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=small.element_handle())
    assert small.evaluate("img => img.naturalWidth") == max(w for w in widths if w <= 400)  # drawn, not broken
    served = page.request.get(small.get_attribute("src") or "")
    assert served.headers["content-type"] in ("image/png", "image/webp"), served.headers
    assert served.body()[:8] == b"\x89PNG\r\n\x1a\n" or served.body()[8:12] == b"WEBP"

    card.get_by_role("link", name=name, exact=True).click()
    big = page.get_by_role("img", name=f"Preview of {name}")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=big.element_handle())
    assert big.evaluate("img => img.naturalWidth") == max(widths)
    shot(page, "18-qoi-thumbnail")


def drop_files(page: Page, selector: str, paths: list[Path]) -> None:
    """What the browser does when files from the desktop are let go over an element."""
    files = [[path.name, base64.b64encode(path.read_bytes()).decode()] for path in paths]
    transfer = page.evaluate_handle("""(files) => {
      const transfer = new DataTransfer();
      for (const [name, data] of files) {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, { type: 'text/x-gcode' }));
      }
      return transfer;
    }""", files)
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    expect(page.get_by_text("Drop to upload to the library")).to_be_visible()
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_upload_tray_follows_across_pages_and_drop_anywhere_in_the_library(page: Page, stack: Stack,
                                                                         tmp_path: Path, filled: dict) -> None:
    sign_in(page, stack)
    big = fixture_path("prusa_cube20x4_0.20mm_ASA_labels")  # 0.7 MB, not in the library yet
    note = tmp_path / "shopping.gcode"
    note.write_text("milk\neggs\n" * 50)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {  # a slow uplink: the upload takes seconds
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 100_000})
    drop_files(page, ".results", [big, note])  # not a drop zone: anywhere on the library page
    tray = page.get_by_role("complementary", name="Uploads")
    expect(tray).to_contain_text(big.name)
    page.get_by_role("link", name="Printers").click()
    expect(page.get_by_role("heading", name="Printers")).to_be_visible()
    expect(tray).to_contain_text(re.compile("Uploading [12] of 2"))  # still in view on another page
    expect(tray.get_by_role("progressbar", name=f"Upload of {big.name}")).to_be_visible()
    shot(page, "18-upload-tray")
    page.get_by_role("link", name="System").click()
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    expect(tray).to_contain_text("1 upload failed", timeout=60_000)  # the good one is done
    expect(tray.get_by_role("alert")).to_contain_text("Failed:")  # the bad one says why, until dismissed
    assert any(f["name"] == big.name for f in library_files(page))
    tray.get_by_role("button", name="Dismiss").click()
    expect(tray).to_have_count(0)


def test_rename_a_file_from_its_page(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    file = filled["files"]["slic3r_cube20_0.25mm"]
    page.goto(f"/files/{file['id']}")
    page.get_by_role("button", name="Rename").click()
    field = page.get_by_label("File name")
    expect(field).to_be_focused()
    field.fill("x" * 1100)  # too long for the api: its words are shown, nothing changes
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("alert")).to_contain_text("Not renamed")
    field.fill("Slic3r calibration cube.gcode")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Slic3r calibration cube.gcode")
    assert page.request.get(f"/api/v1/files/{file['id']}").json()["name"] == "Slic3r calibration cube.gcode"
    page.get_by_role("link", name="← Library").click()
    page.get_by_label("Search files").fill("calibration cube")
    expect(page.get_by_role("link", name="Slic3r calibration cube.gcode", exact=True)).to_be_visible()


def test_slash_focuses_the_search_from_any_page(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    page.goto("/printers")
    page.get_by_role("heading", name="Printers").wait_for()
    page.keyboard.press("/")
    expect(page.get_by_label("Search files")).to_be_focused()
    expect(page.get_by_label("Search files")).to_have_value("")  # the slash is not typed into it
    page.keyboard.type("cube")
    expect(page).to_have_url(re.compile(r"q=cube"))
    # While typing elsewhere, a slash is just a character.
    page.goto(f"/files/{filled['files'][LIBRARY[0]]['id']}")
    page.get_by_label("Notes").fill("")
    page.get_by_label("Notes").press_sequentially("a/b")
    expect(page.get_by_label("Notes")).to_have_value("a/b")


def test_facets_count_within_the_other_filters_and_sort_nozzles_by_size(page: Page, stack: Stack,
                                                                        filled: dict) -> None:
    sign_in(page, stack)
    by_hash = {hashlib.sha256(fixture_path(f).read_bytes()).hexdigest(): MANIFEST[f]["expected"] for f in MANIFEST}
    stored = [by_hash[f["sha256"]] for f in library_files(page) if f["sha256"] in by_hash]
    nozzle = page.get_by_label("Nozzle")
    sizes = [float(v) for v in nozzle.locator("option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")]
    assert sizes == sorted(sizes) and len(sizes) >= 4, sizes
    page.get_by_label("Slicer").select_option("Slic3r")
    slic3r = Counter(e["nozzle_diameter"] for e in stored if e.get("slicer_in_file") == "Slic3r")
    for size, count in slic3r.items():  # counts among Slic3r files only, from the manifest
        expect(nozzle.locator(f"option[value='{size}']")).to_have_text(f"{size} mm ({count})")
    expect(nozzle.locator("option[value='0.6']")).to_have_count(0)  # only PrusaSlicer made a 0.6
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_label("Slicer")).to_have_value("")
    expect(page).not_to_have_url(re.compile(r"[?&]slicer="))
    expect(nozzle.locator("option[value='0.6']")).to_have_count(1)


def test_filament_lengths_in_one_unit(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    for fixture_id in ("prusa_cone_0.05mm_PLA_0.25n_comments", "prusa_tower_0.30mm_ABS_0.6n"):
        expected = MANIFEST[fixture_id]["expected"]
        metres = expected["filament_used_mm"] / 1000
        text = f"{metres:.2f} m" if metres < 1 else f"{metres:.1f} m"  # 0.26 m, not "263 mm"
        page.goto(f"/files/{filled['files'][fixture_id]['id']}")
        expect(page.locator("dl.meta")).to_contain_text(f"{text} / ")
    assert httpx.get(f"{stack.api}/api/v1/health/live").status_code == 200


def test_printer_page_shows_only_controls_that_apply_and_last_contact(page: Page, stack: Stack,
                                                                      filled: dict) -> None:
    sign_in(page, stack)
    page.goto(f"/printers/{filled['printer']}")
    status = page.get_by_role("region", name=re.compile("^Status"))
    expect(status.locator(".badge")).not_to_have_text(re.compile("Printing|Paused"))  # idle or offline
    for control in ("Pause", "Resume", "Cancel print"):
        expect(page.get_by_role("button", name=control)).to_have_count(0)
    expect(page.get_by_text(re.compile(r"(connected|not connected), last contact"))).to_be_visible()
    online = page.request.get(f"/api/v1/printers/{filled['printer']}").json()["status"]["online"]
    # green "Live updates" (the page's own) only while the printer answers too
    expect(page.locator(".page-head .live")).to_have_text("● Live updates" if online else "○ Printer offline")


def test_slicer_setup_shows_this_servers_address(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.goto("/upload")
    page.get_by_role("link", name="API keys").last.click()  # the upload hint links to it
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    expect(page.get_by_test_id("server-url")).to_have_text(stack.web)


def test_sessions_are_named_by_browser_and_system(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    agent = page.evaluate("navigator.userAgent")
    page.goto("/account")
    row = page.get_by_role("row").filter(has_text="This browser")
    expect(row).to_contain_text("Chrome on Linux")
    assert agent not in row.inner_text()  # the raw string only as a tooltip
    expect(row.locator("td").first).to_have_attribute("title", agent)


def test_system_page_uses_words_not_field_names(page: Page, stack: Stack) -> None:
    sign_in(page, stack)
    page.goto("/status")
    cards = page.get_by_role("list", name="Components")
    database = cards.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Database"))
    expect(database).to_contain_text(re.compile(r"Schema\s*up to date \(\d+\w*\)"))  # the head, e.g. 0014
    backups = cards.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Backups"))
    expect(backups).to_contain_text("Warn when older than")
    for raw in ("Max age hours", "Revision", "Head", "Latency", "Age hours"):
        expect(cards).not_to_contain_text(raw)


def test_file_page_groups_what_a_person_needs(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    expected = MANIFEST[LIBRARY[0]]["expected"]
    page.goto(f"/files/{filled['files'][LIBRARY[0]]['id']}")
    glance = page.locator("dl.meta")
    nozzle, layer = expected["nozzle_diameter"], expected["layer_height"]
    expect(glance).to_contain_text(f"{nozzle} mm nozzle · {layer} mm layer height")
    expect(glance).to_contain_text(f"bed {expected['bed_temp']} °C")
    expect(glance.get_by_role("img", name=re.compile("^colour #"))).to_have_count(1)  # a swatch, not hex text
    expect(glance).not_to_contain_text("byte")
    byte_offsets = page.get_by_text("G-code starts at byte")
    expect(byte_offsets).to_be_hidden()  # parser detail, under "All fields"
    page.get_by_text(re.compile(r"^All fields \(\d+\)$")).click()
    expect(byte_offsets).to_be_visible()
    notes = page.get_by_label("Notes").bounding_box()
    assert notes and notes["y"] + notes["height"] <= 860  # notes are above the fold, not pushed below


def test_search_finds_fragments_of_names_whole_words_first(page: Page, stack: Stack, filled: dict) -> None:
    """`benchy` finds `3DBenchy_v2.gcode`; a fragment from the middle of a name too; a file
    matching the word comes before one that only contains it."""
    inside = upload_named(page, "slic3r_cylinder_0.10mm_0.35n", "3DBenchy_v2.gcode")
    word = upload_named(page, "cura_cone_0.06mm_ender3", "benchy_hull.gcode")
    page.goto("/")
    page.get_by_label("Search files").fill("benchy")
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_text("2 files match")).to_be_visible()
    links = results.get_by_role("link", name=re.compile(r"benchy", re.I))
    expect(links).to_have_text([word["name"], inside["name"]])  # whole word first, then inside a word
    page.get_by_label("Search files").fill("linder_0.10")  # from the middle of a library name
    expect(results.get_by_role("link", name="slic3r_cylinder_0.10mm_0.35n.gcode", exact=True)).to_be_visible()
    expect(results.get_by_text("1 file match")).to_be_visible()
    shot(page, "26-search-fragment")


def upload_named(page: Page, fixture_id: str, name: str) -> dict:
    """A fixture's content under another name (new content: each fixture once per vault)."""
    path = fixture_path(fixture_id)
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={
        "file": {"name": name, "mimeType": "text/x-gcode", "buffer": path.read_bytes() + f"; {name}\n".encode()}})
    assert answer.status in (200, 201), answer.text()
    return answer.json()


def test_a_new_vault_is_not_degraded_for_its_first_backup(page: Page, stack: Stack) -> None:
    """No backup yet on a new vault is nothing for an admin to do: the schedule makes it."""
    sign_in(page, stack)
    page.goto("/status")
    backups = page.get_by_role("list", name="Components").get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Backups"))
    if page.request.get("/api/v1/backups").json()["total"]:
        pytest.skip("a backup exists already (this run made one before)")
    expect(backups.locator(".badge")).to_have_text("ok")
    expect(backups).to_contain_text("No backup yet: the schedule makes the first one")


def test_currency_of_filament_costs_is_an_admin_setting(page: Page, stack: Stack, filled: dict) -> None:
    sign_in(page, stack)
    cost = MANIFEST[LIBRARY[0]]["expected"]["filament_cost"]
    file_page = f"/files/{filled['files'][LIBRARY[0]]['id']}"
    page.goto(file_page)
    filament = page.locator("dl.meta").locator("div").filter(has=page.get_by_text("Filament", exact=True))
    expect(filament).to_contain_text(f"costs {cost:.2f}")  # slicers write no currency
    page.goto("/status")
    page.get_by_label("Currency of filament costs").fill("eur")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: costs show EUR.")).to_be_visible()
    try:
        page.goto(file_page)
        expect(filament).to_contain_text(f"costs €{cost:.2f}")
        page.get_by_text(re.compile(r"^All fields \(\d+\)$")).click()
        expect(page.locator("dl.fields")).to_contain_text(f"€{cost:.2f}")
        shot(page, "27-file-cost-currency")
        page.goto("/status")
        page.get_by_label("Currency of filament costs").fill("EU")  # not a three-letter code: refused in words
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("Not saved")
    finally:
        answer = page.request.put("/api/v1/library/preferences", headers={"X-Requested-With": "e2e"},
                                  data={"currency": None})
        assert answer.status == 200, answer.text()


def test_empty_printers_page_opens_the_add_form(page: Page, stack: Stack) -> None:
    """Near the end of this file: it removes every printer."""
    sign_in(page, stack)
    for printer in page.request.get("/api/v1/printers").json()["items"]:
        answer = page.request.delete(f"/api/v1/printers/{printer['id']}", headers={"X-Requested-With": "e2e"})
        assert answer.status == 204, answer.text()
    page.goto("/printers")
    expect(page.get_by_text("No printers yet.")).to_be_visible()
    expect(page.get_by_label("Moonraker address")).to_be_visible()  # no click needed to start


def test_a_models_page_shows_its_mesh_facts_and_drawn_thumbnail(page: Page, stack: Stack) -> None:
    """Issue 13: a 3MF made by PrusaSlicer; the facts shown are PrusaSlicer's (fixtures manifest)."""
    sign_in(page, stack)
    entry = next(m for m in MODEL_MANIFEST if m["id"] == "two_objects")
    answer = page.request.post("/api/v1/files", headers={"X-Requested-With": "e2e"}, multipart={"file": {
        "name": entry["file"], "mimeType": "model/3mf", "buffer": (MODEL_FIXTURES / entry["file"]).read_bytes()}})
    assert answer.status in (200, 201), answer.text()
    page.goto(f"/files/{answer.json()['id']}")
    facts, expected = page.get_by_label("Model"), entry["expected"]
    times = " \u00d7 "  # "36 x 20 x 120 mm", with multiplication signs
    expect(facts).to_contain_text(times.join(f"{mm:g}" for mm in expected["size_mm"]) + " mm")
    expect(facts).to_contain_text(f"{expected['volume_mm3'] / 1000:g} cm³")
    expect(facts).to_contain_text(f"Triangles{expected['triangles']}")
    expect(facts).to_contain_text("Watertight" + ("yes" if expected["watertight"] else "no"))
    preview = page.get_by_role("img", name=f"Preview of {entry['file']}")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 300  # drawn by the server, loaded
    expect(page.get_by_role("link", name="Download model")).to_be_visible()
    expect(page.get_by_role("heading", name="Send to printer")).to_have_count(0)  # slice it first
