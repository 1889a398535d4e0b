"""frontend/nginx.conf (the Docker image's server) run by a real nginx against the real api:
SPA fallback, long cache for hashed assets only, the api and slicer-compat paths proxied,
sign-in through the proxy passing the api's Origin check, uploads streamed, and the printer
events stream arriving unbuffered. Needs an nginx binary (Debian's `nginx-light`)."""

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from e2ekit import ADMIN, ensure_build
from harness.paths import BACKEND, GCODE_FIXTURES, REPO
from harness.processes import free_port, logged_process, vault_env, wait_http
from harness.vault import make_settings, migrate

pytestmark = pytest.mark.e2e

CONF = REPO / "frontend" / "nginx.conf"
DIST = REPO / "frontend" / "dist"
MAIN = """pid {root}/nginx.pid;
error_log {root}/error.log;
events {{}}
http {{
  include {mime};
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  include {root}/site.conf;
}}
"""


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], env=env, capture_output=True)
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light) to check frontend/nginx.conf")
    return found


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Its own configured vault and api, so the browser tests keep their fresh one."""
    root = tmp_path_factory.mktemp("nginx-api")
    migrate(make_settings(root / "data"))
    token = secrets.token_urlsafe(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "printstash.cli", "serve", "--port", str(port)]
    with logged_process(cmd, BACKEND, vault_env(root / "data", VAULT_SETUP_TOKEN=token), root / "api.log"):
        wait_http(f"{base}/api/v1/health/live", timeout=90)  # a busy machine starts slowly
        body = {"setup_token": token, "username": ADMIN[0], "password": ADMIN[1]}
        httpx.post(f"{base}/api/v1/auth/setup", json=body, headers={"X-Requested-With": "e2e"}).raise_for_status()
        yield base


@pytest.fixture(scope="module")
def proxy(api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx serving the built app with the repo's nginx.conf; only the listen address, the
    document root and the api's address (http://api:8000 in compose) are substituted."""
    nginx = _nginx()
    ensure_build()
    root = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = CONF.read_text()
    site = site.replace("listen 3000;", f"listen 127.0.0.1:{port};")
    site = site.replace("root /usr/share/nginx/html;", f"root {DIST};")
    site = site.replace("http://api:8000", api)
    (root / "site.conf").write_text(site)
    mime = next(p for p in (Path("/etc/nginx/mime.types"), Path("/usr/local/nginx/conf/mime.types")) if p.exists())
    (root / "nginx.conf").write_text(MAIN.format(root=root, mime=mime))
    cmd = [nginx, "-c", str(root / "nginx.conf"), "-g", "daemon off;"]
    with logged_process(cmd, root, dict(os.environ), root / "nginx.out"):
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/v1/health/live")
        yield base


def test_spa_fallback_and_caching(proxy: str) -> None:
    index = httpx.get(f"{proxy}/")
    assert index.status_code == 200 and '<div id="root">' in index.text
    assert index.headers["cache-control"] == "no-cache"
    deep = httpx.get(f"{proxy}/files/12345")  # a client-side route: the app, not a 404
    assert deep.status_code == 200 and deep.text == index.text
    asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
    assert asset, index.text
    cached = httpx.get(f"{proxy}{asset.group(1)}")
    assert cached.status_code == 200
    assert "immutable" in cached.headers["cache-control"] and "max-age=31536000" in cached.headers["cache-control"]
    assert httpx.get(f"{proxy}/assets/missing-1234.js").status_code == 404  # no index.html for assets


def test_the_web_app_is_sent_compressed_and_the_api_as_it_answers(proxy: str) -> None:
    index = httpx.get(f"{proxy}/")
    asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
    assert asset, index.text
    with httpx.stream("GET", f"{proxy}{asset.group(1)}", headers={"Accept-Encoding": "gzip"}) as packed:
        unpacked = packed.read()  # httpx unpacks it; num_bytes_downloaded counts what came
        assert packed.headers.get("content-encoding") == "gzip" and "Accept-Encoding" in packed.headers["vary"]
        sent = packed.num_bytes_downloaded
    plain = httpx.get(f"{proxy}{asset.group(1)}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == unpacked
    assert sent < len(plain.content) / 2
    schema = httpx.get(f"{proxy}/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})  # large JSON
    assert schema.status_code == 200 and "content-encoding" not in schema.headers  # as the api sent it


def test_api_and_slicer_paths_are_proxied(proxy: str, api: str) -> None:
    assert httpx.get(f"{proxy}/api/v1/health").json()["components"].keys() >= {"database", "storage"}
    version = httpx.get(f"{proxy}/api/version")
    assert version.json() == httpx.get(f"{api}/api/version").json()
    # Unauthenticated upload through the slicer path reaches the api and gets its error shape.
    answer = httpx.post(f"{proxy}/api/files/local", files={"file": ("a.gcode", b"G28\n")})
    assert answer.status_code == 401 and set(answer.json()) >= {"detail", "code"}


@contextmanager
def _signed_in(proxy: str) -> Iterator[httpx.Client]:
    """A cookie session through nginx, sending the Origin a browser on the proxy would."""
    with httpx.Client(base_url=proxy, headers={"Origin": proxy}, timeout=30.0) as client:
        login = client.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert login.status_code == 200, login.text
        yield client


def test_cookie_session_and_upload_through_the_proxy(proxy: str) -> None:
    with _signed_in(proxy) as client:
        # A state-changing cookie request: the api's Origin check must see nginx's own host.
        gcode = (GCODE_FIXTURES / "slic3r" / "slic3r_cube20_0.25mm.gcode").read_bytes()
        upload = client.post("/api/v1/files", files={"file": ("via-nginx.gcode", gcode)})
        assert upload.status_code in (200, 201), upload.text
        assert upload.json()["size"] == len(gcode)
        forged = client.post("/api/v1/api-keys", json={"name": "x"}, headers={"Origin": "http://evil.example"})
        assert forged.status_code == 403


def test_printer_events_stream_is_not_buffered(proxy: str) -> None:
    with _signed_in(proxy) as client:
        started = time.monotonic()
        with client.stream("GET", "/api/v1/printers/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = next(stream.iter_text())
        # The api sends "retry:" at once and must arrive at once. (The api also sends
        # X-Accel-Buffering: no, so this checks the route and timeouts, not only the
        # proxy_buffering line.)
        assert first.startswith("retry:") and time.monotonic() - started < 5


def _vite_headers() -> dict[str, str]:
    """securityHeaders of frontend/vite.config.ts (what `vite preview`, and so the browser
    tests, serve), read from the source."""
    text = (REPO / "frontend" / "vite.config.ts").read_text()
    block = text.split("export const securityHeaders = {", 1)[1].split("\n}", 1)[0]
    pairs = re.findall(r"""'([A-Za-z-]+)':\s*(?:"([^"]*)"|'([^']*)')""", block)
    return {name.lower(): double or single for name, double, single in pairs}


def test_web_app_security_headers_match_the_vite_preview(proxy: str) -> None:
    expected = _vite_headers()
    assert set(expected) == {"content-security-policy", "x-frame-options", "x-content-type-options",
                             "referrer-policy"}
    assert "frame-ancestors 'none'" in expected["content-security-policy"]
    asset = next((DIST / "assets").glob("*.js")).name
    for path in ("/", "/library", f"/assets/{asset}", "/assets/missing.js"):
        answer = httpx.get(f"{proxy}{path}")
        for name, value in expected.items():
            assert answer.headers.get(name) == value, (path, name, answer.headers.get(name))
    api = httpx.get(f"{proxy}/api/v1/health")  # the api's own, stricter policy, sent once
    assert api.headers.get_list("content-security-policy") == [
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"]
    assert api.headers.get_list("x-frame-options") == ["DENY"]
