"""Benchmark: the toolpath preview of a big real-slicer G-code in headless Chromium, side by side
with the same file loaded whole by gcode-preview (how Mainsail- and Fluidd-style viewers work).

Run from backend/ (after `make frontend`; Debian's chromium):
    uv run python ../bench/preview/bench_preview.py --file ../bench/data/big_prusa_wavyvase_0.15mm.gcode --runs 3

The file: `python3 bench/ingest/make_big_gcode.py` (real PrusaSlicer 2.5, 350 MB) or
bench/data/upload_500mb.gcode (bench/ingest/bench_upload.py; 500 MB, ~49k layers).

One fresh vault (migrated data dir, a real uvicorn api and worker, `vite preview` serving the
built web app) holds the file, uploaded once with curl. Then for each viewport (1366x900 and
390x844) and each run, in a fresh browser context (empty cache):
- PrintStash: open /files/{id}/preview; time until the first layer is on the canvas (the view
  marks the canvas `data-drawn-layer` after a frame with that layer), then press End on the
  layer slider and time until the last layer is drawn; let the layers below load, walk the
  slider (PageDown x 20, Home, End); peak JS heap over all of it. Each run also prints where the
  time to the first layer went (ms from navigation start: the app's performance marks and the
  Resource Timing of its requests; see BREAKDOWN).
- gcode-preview 2.18.0 (installed into bench/preview/peer by npm, not committed): a page on the
  same origin downloads the file from /api/v1/files/{id}/download (as Mainsail downloads it
  from Moonraker) and hands the text to `processGCode`; time until it has drawn, peak JS heap,
  or where it fails (a crashed tab, an exception, or --peer-timeout).
Peak heap: `performance.memory.usedJSHeapSize` (Chromium with --enable-precise-memory-info)
sampled in the page every 20 ms and from here every 200 ms. Medians of --runs runs, printed as
a table and written to bench/results/preview.json with the load average.
"""

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BACKEND = REPO / "backend"
FRONTEND = REPO / "frontend"
PEER = Path(__file__).resolve().parent / "peer"
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO / "tests"))

from harness.processes import free_port, logged_process, vault_env, wait_http  # noqa: E402
from harness.vault import add_user_with_key, make_settings, migrate  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--enable-precise-memory-info",
        "--disable-background-networking", "--disable-component-update", "--no-first-run"]
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
USER, PASSWORD = "bench", "correct horse battery"
SAMPLER = """(() => {
  window.__peak = 0
  const sample = () => { window.__peak = Math.max(window.__peak, performance.memory.usedJSHeapSize) }
  sample()
  setInterval(sample, 20)
})()"""
HEAP = "() => Math.max(window.__peak || 0, performance.memory.usedJSHeapSize)"
MB = 1024 * 1024
# Where the time to the first drawn layer goes, in ms from navigation start: the page's own
# Navigation and Resource Timing (HTML, the app's bundle, the three.js view's chunk, the sign-in
# check, the layer index, layer 0: each request's start and end) and the marks the app sets
# (frontend/src/lib/marks.ts: bundle evaluated, session answered, three.js chunk run, index and
# layer 0 answered, WebGL renderer made, first frame drawn).
BREAKDOWN = """() => {
  const out = {}
  const nav = performance.getEntriesByType('navigation')[0]
  out.html = nav.responseEnd
  const ranges = { app: /\\/assets\\/index-[^/]*\\.js$/, view: /\\/assets\\/Toolpaths-[^/]*\\.js$/,
                   me: /\\/auth\\/me$/, index: /\\/layers(\\?|$)/, layer0: /\\/layers\\/0(\\?|$)/ }
  for (const entry of performance.getEntriesByType('resource')) {
    for (const [name, pattern] of Object.entries(ranges)) {
      if (!out[name + '_req'] && pattern.test(entry.name)) {
        out[name + '_req'] = [entry.startTime, entry.responseStart, entry.responseEnd].map(Math.round)
      }
    }
  }
  for (const entry of performance.getEntriesByType('mark')) {
    if (entry.name.startsWith('printstash:')) out[entry.name.slice(11)] ??= Math.round(entry.startTime)
  }
  return out
}"""
MARKS = ("html", "bundle", "session", "three", "index", "layer0", "webgl", "drawn")
MEDIANS = ("first_draw_s", "jump_last_s", "peak_heap_mb")
REQUESTS = ("app", "view", "me", "index", "layer0")

PEER_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script type="importmap">{"imports": {
  "three": "/bench-peer/node_modules/three/build/three.module.js",
  "three/": "/bench-peer/node_modules/three/",
  "lil-gui": "/bench-peer/node_modules/lil-gui/dist/lil-gui.esm.js",
  "gcode-preview": "/bench-peer/node_modules/gcode-preview/dist/gcode-preview.es.js"}}</script>
<style>html,body{margin:0;height:100%}canvas{display:block;width:100vw;height:100vh}</style></head>
<body><canvas id="view"></canvas><script type="module">
import * as GCodePreview from 'gcode-preview'
try {
  const answer = await fetch('/api/v1/files/FILE_ID/download', { credentials: 'same-origin' })
  const text = await answer.text()
  window.__downloaded = performance.now()
  const preview = GCodePreview.init({ canvas: document.getElementById('view'), extrusionColor: 'hotpink' })
  preview.processGCode(text)
  window.__peak = Math.max(window.__peak || 0, performance.memory.usedJSHeapSize) // parsed, drawn
  requestAnimationFrame(() => { window.__drawn = performance.now() })
} catch (error) { window.__failed = String(error && error.message || error) }
</script></body></html>"""


def install_peer() -> None:
    """gcode-preview as its package pins it (with its own three.js), beside this script."""
    if not (PEER / "node_modules" / "gcode-preview").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER, check=True)


def load() -> float:
    return os.getloadavg()[0]


def upload(api: str, key: str, path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    out = subprocess.run(["curl", "-sS", "-f", "-H", f"X-Api-Key: {key}", "-F", f"file=@{path}",
                          f"{api}/api/v1/files"], check=True, capture_output=True, text=True).stdout
    return int(json.loads(out)["id"]), time.perf_counter() - start


def wait_index(api: str, key: str, file_id: int) -> int:
    """The layer count once the index answers (built on upload, or by the worker's backfill)."""
    import httpx

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        answer = httpx.get(f"{api}/api/v1/files/{file_id}/layers", headers={"X-Api-Key": key}, timeout=30)
        if answer.status_code == 200:
            return int(answer.json()["count"])
        time.sleep(1)
    raise TimeoutError("the layer index never answered")


def signed_in_page(browser: Browser, web: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(base_url=web, viewport=viewport)
    context.add_init_script(SAMPLER)
    page = context.new_page()
    answer = page.request.post("/api/v1/auth/login", headers={"X-Requested-With": "bench"},
                               data={"username": USER, "password": PASSWORD})
    assert answer.ok, answer.text()
    return page


def drawn(page: Page, layer: int, timeout_s: float = 60) -> None:
    page.wait_for_selector(f".preview-canvas canvas[data-drawn-layer='{layer}']", state="attached",
                           timeout=timeout_s * 1000)


def ours(browser: Browser, web: str, file_id: int, count: int, viewport: dict[str, int]) -> dict[str, Any]:
    page = signed_in_page(browser, web, viewport)
    try:
        start = time.perf_counter()
        page.goto(f"/files/{file_id}/preview")
        drawn(page, 0)
        first = time.perf_counter() - start
        breakdown = page.evaluate(BREAKDOWN)
        slider = page.get_by_role("slider")
        slider.focus()
        start = time.perf_counter()
        page.keyboard.press("End")
        drawn(page, count - 1)
        jump = time.perf_counter() - start
        time.sleep(3)  # the layers below load within the budget
        for _ in range(20):
            page.keyboard.press("PageDown")
        page.keyboard.press("Home")
        drawn(page, 0)
        page.keyboard.press("End")
        drawn(page, count - 1)
        time.sleep(3)
        result = {"first_draw_s": first, "jump_last_s": jump, "peak_heap_mb": page.evaluate(HEAP) / MB}
        print("  PrintStash", viewport, result, flush=True)
        print("    " + describe(breakdown), flush=True)
        return {**result, "breakdown": breakdown}
    finally:
        page.context.close()


def describe(breakdown: dict[str, Any]) -> str:
    """One line: the marks in ms, then each request as start>first byte>end."""
    marks = " ".join(f"{name} {breakdown[name]:.0f}" for name in MARKS if name in breakdown)
    requests = " ".join(f"{name} {'>'.join(map(str, breakdown[name + '_req']))}" for name in REQUESTS
                        if name + "_req" in breakdown)
    return f"ms from navigation: {marks} | requests: {requests}"


def median_breakdown(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each mark's and each request's times, the median over the runs that have them."""
    parts = [run["breakdown"] for run in runs]
    names = {name for part in parts for name in part}
    return {name: _median([part[name] for part in parts if name in part]) for name in names}


def _median(values: list[Any]) -> Any:
    """The median of numbers, or of [start, first byte, end] lists element by element."""
    if isinstance(values[0], list):
        return [round(statistics.median(column)) for column in zip(*values, strict=True)]
    return statistics.median(values)


def peer(browser: Browser, web: str, file_id: int, viewport: dict[str, int], timeout_s: float) -> dict[str, Any]:
    page = signed_in_page(browser, web, viewport)
    html = PEER_PAGE.replace("FILE_ID", str(file_id))
    page.route("**/bench-peer/index.html", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.route("**/bench-peer/node_modules/**", lambda route: route.fulfill(
        path=str(PEER / route.request.url.split("/bench-peer/", 1)[1]), content_type="text/javascript"))
    start, outcome, peak = time.perf_counter(), "timeout", 0.0
    try:
        page.goto("/bench-peer/index.html")
        # processGCode runs synchronously for the whole file: the page answers nothing until it
        # is done, so the wait is bounded here, not in the page.
        page.wait_for_function("() => window.__drawn || window.__failed", timeout=timeout_s * 1000, polling=250)
        state = page.evaluate(f"() => ({{heap: ({HEAP})(), failed: window.__failed}})")
        peak = state["heap"] / MB
        outcome = f"failed: {state['failed']}" if state["failed"] else "drawn"
    except Exception as error:  # timeout, or the tab died under it (out of memory): that is the result
        outcome = "timeout" if "Timeout" in type(error).__name__ else f"failed: {str(error).splitlines()[0]}"
        with contextlib.suppress(Exception):
            peak = page.evaluate(HEAP) / MB
    elapsed = time.perf_counter() - start
    with contextlib.suppress(Exception):  # a crashed context may refuse to close cleanly
        page.context.close()
    result = {"outcome": outcome, "seconds": elapsed, "peak_heap_mb": peak}
    print("  gcode-preview", viewport, result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peer-runs", type=int, default=1, help="gcode-preview runs per viewport (slow)")
    parser.add_argument("--peer-timeout", type=float, default=180)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    if not args.no_peer:
        install_peer()
    rows: dict[str, Any] = {"file": args.file.name, "size_mb": args.file.stat().st_size / 1e6,
                            "load_before": os.getloadavg(), "ours": {}, "peer": {}}
    with ExitStack() as stack, tempfile.TemporaryDirectory(dir=REPO / "bench" / "data") as tmp:
        data_dir = Path(tmp) / "data"
        settings = make_settings(data_dir)
        migrate(settings)
        key = add_user_with_key(settings, USER, "admin", PASSWORD)
        env = vault_env(data_dir, VAULT_SETUP_TOKEN=secrets.token_urlsafe(8))
        api, web = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
        cli = [sys.executable, "-m", "printstash.cli"]
        vite = ["node", str(FRONTEND / "node_modules" / "vite" / "bin" / "vite.js"), "preview", "--host", "127.0.0.1",
                "--port", web.rsplit(":", 1)[1], "--strictPort"]
        logs = Path(tmp)
        stack.enter_context(logged_process([*cli, "serve", "--port", api.rsplit(":", 1)[1]], BACKEND, env,
                                           logs / "api.log"))
        stack.enter_context(logged_process([*cli, "worker"], BACKEND, env, logs / "worker.log"))
        stack.enter_context(logged_process(vite, FRONTEND, {**os.environ, "PRINTSTASH_API_URL": api},
                                           logs / "vite.log"))
        wait_http(f"{api}/api/v1/health/live", timeout=90)
        wait_http(f"{web}/api/v1/health/live", timeout=90)
        file_id, upload_s = upload(api, key, args.file)
        count = wait_index(api, key, file_id)
        rows.update(upload_s=upload_s, layers=count)
        print(f"{args.file.name}: {rows['size_mb']:.1f} MB, {count} layers, uploaded in {upload_s:.1f} s")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name, viewport in VIEWPORTS.items():
                runs = [ours(browser, web, file_id, count, viewport) for _ in range(args.runs)]
                rows["ours"][name] = {"runs": runs, "load": load(), **{
                    field: statistics.median(run[field] for run in runs) for field in MEDIANS}}
                if not args.no_peer:
                    peer_runs = [peer(browser, web, file_id, viewport, args.peer_timeout)
                                 for _ in range(args.peer_runs)]
                    rows["peer"][name] = {"runs": peer_runs, "load": load()}
            browser.close()
    rows["load_after"] = os.getloadavg()
    report(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "preview.json").write_text(json.dumps(rows, indent=1))


def report(rows: dict[str, Any]) -> None:
    print(f"load average before {rows['load_before'][0]:.1f}, after {rows['load_after'][0]:.1f}")
    print("| viewport | viewer | first layer drawn | jump to last layer | peak JS heap |")
    print("| --- | --- | --- | --- | --- |")
    for name, viewport in VIEWPORTS.items():
        size = f"{viewport['width']}x{viewport['height']}"
        mine = rows["ours"][name]
        print(f"| {size} | PrintStash (median of {len(mine['runs'])}) | {mine['first_draw_s']:.2f} s | "
              f"{mine['jump_last_s']:.2f} s | {mine['peak_heap_mb']:.0f} MB |")
        for run in mine["runs"]:
            print(f"|  | run: {describe(run['breakdown'])} | {run['first_draw_s']:.2f} s | | |")
        print(f"|  | median: {describe(median_breakdown(mine['runs']))} | | | |")
        for run in rows["peer"].get(name, {}).get("runs", []):
            print(f"| {size} | gcode-preview 2.18.0 | {run['outcome']} after {run['seconds']:.1f} s | - | "
                  f"{run['peak_heap_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
