"""docs/upgrading.md run as written against the real docker-compose.yml (podman-compose), with
the images built here: the previous version (built from the commit before the newest migration,
in a git worktree) upgraded to this checkout's, then rolled back. `make test-containers`.

The guide's shell lines are read from the document and run in order, `docker compose` replaced
by podman-compose; only what cannot run here is substituted, and said so where it happens:
`docker compose pull` / `build --pull` (no image registry: the images are built beforehand by
scripts/images.sh, as `make images` does) and `docker compose cp` (podman-compose has no `cp`:
`podman cp` on the service's container). Between the lines, the checks the guide promises:
uploads answer 503 in maintenance, healthchecks reach healthy, the four smoke checks with the
guide's own URLs (a real Moonraker + Klippy printer on the host), `compose stop` within 10 s,
the data volume surviving `down`/`up`, and after the rollback the old version serving the old
data and refusing the migrated database.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.paths import GCODE_FIXTURES, REPO
from harness.peers import KlipperPrinter, klipper_printer

pytestmark = [pytest.mark.containers, pytest.mark.timeout(1800)]

UPGRADING = REPO / "docs" / "upgrading.md"
INSTALLATION = REPO / "docs" / "installation.md"
COMPOSE_FILE = REPO / "docker-compose.yml"
CONTAINERS_CONF = REPO / "scripts" / "containers" / "containers.conf"
PODMAN_COMPOSE = Path(shutil.which("podman-compose") or "podman-compose")
PROJECT = "printstash-guide-test"
SETUP_TOKEN = "container-test-setup-token-0123456789"
ADMIN = ("admin", "a long enough admin password")
NEW_TAG = "guide-test-new"
# The guide's own URLs (asserted to be in docs/upgrading.md below).
WEB = "http://localhost:3000"
HEALTH = "http://localhost:8000/api/v1/health"
FIXTURES = ["prusaslicer/prusa_cube20_0.20mm_PLA_thumbs.gcode", "prusaslicer/prusa_tower_0.30mm_ABS_0.6n.gcode"]


def manifest_entry(rel: str) -> dict[str, Any]:
    doc = json.loads((GCODE_FIXTURES / "manifest.json").read_text())
    return next(entry for entry in doc["files"] if entry["file"] == rel)  # type: ignore[no-any-return]


def guide_lines(path: Path, heading: str) -> list[str]:
    """The shell lines of the first code block after `heading`, comments dropped."""
    text = path.read_text()
    start = text.index(heading)
    block = re.search(r"^```sh\n(.*?)^```", text[start:], re.S | re.M)
    assert block, f"no code block after {heading} in {path.name}"
    lines = [line.split(" #")[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def sh(*cmd: str, env: dict[str, str] | None = None, timeout: float = 900, check: bool = True,
       cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert proc.returncode == 0, f"{shlex.join(cmd)} exited {proc.returncode}:\n{tail}"
    return proc


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return sh("podman", *args, env={**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}, check=check,
              timeout=timeout)


def build_images(source: Path, tag: str) -> None:
    sh(str(REPO / "scripts" / "images.sh"), str(source), tag,
       env={**os.environ, "ENGINE": "podman", "CONTAINERS_CONF": str(CONTAINERS_CONF)}, timeout=1500)


# The 'old version' of the guide: the last landed commit before migrations 0008-0009 (schema
# 0007), as an admin upgrading today runs it. Not "the parent of the newest migration commit":
# that can be an integration merge whose tree never landed (nor built). Move it forward when
# a later landed version is the one people upgrade from.
OLD_REVISION = "810d9d1"


def old_revision() -> str:
    """The commit whose images are the 'old version' (PRINTSTASH_OLD_REVISION overrides it)."""
    rev = os.environ.get("PRINTSTASH_OLD_REVISION") or OLD_REVISION
    found = sh("git", "rev-parse", "--verify", f"{rev}^{{commit}}", check=False)
    assert found.returncode == 0, f"no commit {rev} here: the old version is built from the git history"
    return found.stdout.strip()


@dataclass
class Guide:
    """Runs the guide's lines with podman-compose on one compose project."""

    env: dict[str, str]
    archive: str = ""
    copied: Path | None = None
    ran: list[str] = field(default_factory=list)

    def compose(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return sh(str(PODMAN_COMPOSE), "-p", PROJECT, "-f", str(COMPOSE_FILE), *args, env=self.env, check=check,
                  timeout=timeout)

    def container(self, service: str) -> str:
        return f"{PROJECT}_{service}_1"

    def run(self, line: str, *, check: bool = True) -> subprocess.CompletedProcess[str] | None:
        self.ran.append(line)
        line = line.replace("<archive>", self.archive)
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            self.env[name] = {"<new version>": NEW_TAG, "<old version>": self.env["OLD_TAG"]}.get(value, value)
            return None
        words = shlex.split(line)
        assert words[:2] == ["docker", "compose"], f"not a compose line: {line}"
        args = words[2:]
        if args[0] == "pull" or args[:2] == ["build", "--pull"]:
            # No image registry here: the images of both versions were built by scripts/images.sh.
            for image in ("api", "frontend"):
                podman("image", "exists", f"ghcr.io/xiao-villamor/printstash-{image}:{self.env['PRINTSTASH_VERSION']}")
            return None
        if args[0] == "cp":  # podman-compose has no `cp`
            service, _, src = args[1].partition(":")
            self.copied = Path(self.env["GUIDE_TMP"]) / Path(src).name
            return podman("cp", f"{self.container(service)}:{src}", str(self.copied))
        return self.compose(*args, check=check)

    def run_section(self, path: Path, heading: str, after: dict[str, Callable[[], None]] | None = None) -> None:
        """Every line of the section in order; `after[fragment]` runs after the line containing it."""
        for line in guide_lines(path, heading):
            out = self.run(line)
            if out is not None and "backup create" in line:
                made = re.search(r"backup written: /data/backups/(\S+)", out.stdout)
                assert made, out.stdout
                self.archive = made.group(1)
            for fragment, check in (after or {}).items():
                if fragment in line:
                    check()


def wait_healthy(guide: Guide, services: tuple[str, ...] = ("api", "frontend"), timeout: float = 120) -> None:
    """Healthchecks have no timer here (no systemd): run them, as the engine would, until healthy."""
    for service in services:
        name = guide.container(service)
        deadline = time.monotonic() + timeout
        while podman("healthcheck", "run", name, check=False).returncode != 0:
            assert time.monotonic() < deadline, f"{name} never became healthy:\n{podman('logs', name).stderr[-3000:]}"
            time.sleep(2)
        state = podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        assert state == "healthy", (name, state)


def web(key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=WEB, headers={"X-Api-Key": key} if key else {}, timeout=60)


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.TransportError:
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout}s: {what}")


def upload(client: httpx.Client, rel: str) -> dict[str, Any]:
    path = GCODE_FIXTURES / rel
    with path.open("rb") as fh:
        resp = client.post("/api/v1/files", files={"file": (path.name, fh, "text/x-gcode")})
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def images() -> Iterator[str]:
    """This checkout's images and the old revision's; yields the old tag."""
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: `make test-containers` installs it (as root)")
    build_images(REPO, NEW_TAG)
    rev = old_revision()
    old_tag = f"guide-test-old-{rev[:10]}"
    have = all(podman("image", "exists", f"ghcr.io/xiao-villamor/printstash-{i}:{old_tag}", check=False).returncode
               == 0 for i in ("api", "frontend"))
    if not have:
        tree = Path(f"/tmp/printstash-old-{rev[:10]}")
        if tree.exists():
            sh("git", "worktree", "remove", "--force", str(tree), check=False)
            shutil.rmtree(tree, ignore_errors=True)
        sh("git", "worktree", "add", "--detach", str(tree), rev)
        # The old sources, packaged by this checkout's Dockerfiles: the revisions before them
        # could not be built (their `uv run` had no writable cache) and took no base-image
        # arguments; what is upgraded is the application and its schema, not the packaging.
        for name in ("Dockerfile.api", "Dockerfile.frontend", ".dockerignore"):
            shutil.copy(REPO / name, tree / name)
        try:
            build_images(tree, old_tag)
        finally:
            sh("git", "worktree", "remove", "--force", str(tree), check=False)
    yield old_tag


@pytest.fixture
def guide(images: str, tmp_path: Path) -> Iterator[Guide]:
    for port in (3000, 8000):
        busy = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout.strip()
        assert not busy, f"port {port} is taken; the guide's URLs need it: {busy}"
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF), "PRINTSTASH_VERSION": images,
           "OLD_TAG": images, "VAULT_SETUP_TOKEN": SETUP_TOKEN, "VAULT_PRINTER_POLL_SECONDS": "1",
           "GUIDE_TMP": str(tmp_path)}
    g = Guide(env)
    g.compose("down", "--volumes", check=False)
    try:
        yield g
    finally:
        for service in ("api", "worker", "frontend"):
            logs = podman("logs", g.container(service), check=False)
            (tmp_path / f"{service}.log").write_text(logs.stdout + logs.stderr)
        g.compose("down", "--volumes", check=False)


def test_upgrade_guide_with_compose(guide: Guide) -> None:
    # Docker fills a new named volume from the image's /data, owner included (podman chowns it
    # to the container's user, which would hide a wrong owner): the image's own /data must be
    # writable by its user.
    for tag in (NEW_TAG, guide.env["OLD_TAG"]):
        podman("run", "--rm", "--image-volume", "ignore", "--network", "none",
               f"ghcr.io/xiao-villamor/printstash-api:{tag}", "sh", "-c", "touch /data/probe && mkdir /data/db")
    text = UPGRADING.read_text()
    assert WEB in text and HEALTH.removeprefix("http://") in text, "the smoke checks' URLs changed in the guide"

    # 1. The old version, installed as docs/installation.md says, with data.
    for line in guide_lines(INSTALLATION, "## With Docker Compose"):
        if line.startswith("docker compose") and "logs" not in line:
            guide.run(line)
    wait_healthy(guide)
    for service in ("api", "worker", "frontend"):  # unprivileged, every one of them
        uids = podman("exec", guide.container(service), "awk", "/^Uid:/ {print $2}", "/proc/1/status").stdout
        assert uids.strip() not in ("", "0"), f"{service}'s main process runs as uid {uids!r}"
    with web() as anon:
        made = anon.post("/api/v1/auth/setup", json={"setup_token": SETUP_TOKEN, "username": ADMIN[0],
                                                      "password": ADMIN[1]})
        assert made.status_code == 201, made.text
        made = anon.post("/api/v1/api-keys", json={"name": "guide"}, headers={"Origin": WEB})
        assert made.status_code == 201, made.text
        key = made.json()["key"]
    gateway = podman("network", "inspect", f"{PROJECT}_default",
                     "--format", "{{range .Subnets}}{{.Gateway}} {{.Subnet}}{{end}}").stdout.split()
    with klipper_printer(host=gateway[0], trusted=gateway[1]) as printer, web(key) as client:
        files = [upload(client, rel) for rel in FIXTURES]
        made = client.post("/api/v1/printers", json={"name": "voron", "url": printer.url})
        assert made.status_code == 201, made.text
        printer_id = made.json()["id"]
        old_revision_seen = client.get(HEALTH).json()["components"]["database"]["revision"]

        # 2. Backup, maintenance on (the guide's lines), then the new revision's images.
        def uploads_refused() -> None:
            with (GCODE_FIXTURES / FIXTURES[0]).open("rb") as fh:
                resp = client.post("/api/files/local", files={"file": ("during.gcode", fh, "text/x-gcode")})
            assert resp.status_code == 503, resp.text

        def restore_refused_while_running() -> None:
            refused = guide.compose("exec", "-T", "api", "uv", "run", "printstash", "backup", "restore",
                                    guide.archive, check=False)
            assert refused.returncode != 0, "restore ran while the api was running"

        guide.run_section(UPGRADING, "## Docker Compose", after={
            "maintenance on": uploads_refused,
            "backup verify": restore_refused_while_running,
            "compose up -d": lambda: wait_healthy(guide),
        })
        upgrade = guide_lines(UPGRADING, "## Docker Compose")
        first_compose_step = next(x for x in upgrade if re.match(r"docker compose (down|stop|pull|run)", x))
        assert first_compose_step == "docker compose down", guide.ran
        assert guide.copied is not None and guide.copied.stat().st_size > 0

        # 4. The four smoke checks, with the guide's URLs.
        with web() as browser:
            signed = browser.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
            assert signed.status_code == 200, signed.text
            assert browser.get("/api/v1/auth/me").json()["username"] == ADMIN[0]
            assert browser.get("/").status_code == 200 and "<div id=\"root\">" in browser.get("/").text
        health = client.get(HEALTH).json()
        assert set(health["components"]) >= {"database", "storage", "backup", "printer_providers"}, health
        new_revision = health["components"]["database"]["revision"]
        assert new_revision != old_revision_seen, "the old version must be an older schema"
        assert health["maintenance"]["on"] is False
        fresh = upload(client, "prusaslicer/prusa_cylinder_0.15mm_PETG_thumbs.gcode")
        expected = manifest_entry("prusaslicer/prusa_cylinder_0.15mm_PETG_thumbs.gcode")["expected"]
        found = client.get("/api/v1/files", params={"q": "cylinder"}).json()["items"]
        hit = next(item for item in found if item["id"] == fresh["id"])
        assert hit["metadata"]["filament_type"] == expected["filament_type"]
        assert hit["metadata"]["layer_height"] == expected["layer_height"]
        assert hit["metadata"]["estimated_time"] == expected["estimated_time_s"], hit["metadata"]
        assert hit["metadata"]["slicer"] == expected["slicer_in_file"]
        assert client.get("/api/v1/files").json()["total"] == len(files) + 1  # the old data came along
        live(client, printer, printer_id)

        # Every service stops on SIGTERM within 10 s; the volume survives down and up.
        started = time.monotonic()
        guide.compose("stop")
        assert time.monotonic() - started < 10, "compose stop took the full grace period"
        for service in ("api", "worker", "frontend"):
            code = podman("inspect", "--format", "{{.State.ExitCode}}", guide.container(service)).stdout.strip()
            assert code != "137", f"{service} was killed, not stopped"
        guide.compose("down")
        guide.compose("up", "-d")
        wait_healthy(guide)
        assert wait_for(lambda: client.get("/api/v1/files").json()["total"] == len(files) + 1, 60, "data after up")

        # 5. Rollback: the guide's lines, then the old version serves the old data.
        guide.run_section(UPGRADING, "## Rollback", after={"compose up -d": lambda: wait_healthy(guide)})
        assert guide.env["PRINTSTASH_VERSION"] == guide.env["OLD_TAG"]
        health = client.get(HEALTH).json()
        assert health["components"]["database"]["revision"] == old_revision_seen
        listed = client.get("/api/v1/files").json()
        assert sorted(item["sha256"] for item in listed["items"]) == sorted(f["sha256"] for f in files)
        live(client, printer, printer_id)

        # The old version refuses the migrated database (kept aside by the restore).
        aside = guide.compose("exec", "-T", "api", "sh", "-c", "ls -d /data/before-restore-*").stdout.split()
        assert len(aside) == 1, aside
        refused = guide.compose("run", "--rm", "-e", f"VAULT_DB_URL=sqlite:///{aside[0]}/db/printstash.sqlite",
                                "api", "uv", "run", "printstash", "serve", check=False, timeout=120)
        assert refused.returncode != 0 and "newer" in refused.stdout + refused.stderr, refused.stdout + refused.stderr


def live(client: httpx.Client, printer: KlipperPrinter, printer_id: int) -> None:
    """Smoke check 4: the printer's page shows live status from the real Moonraker + Klippy."""
    def ready() -> bool:
        status = client.get(f"/api/v1/printers/{printer_id}").json()["status"]
        return bool(status["online"] and status["klippy_state"] == "ready")
    wait_for(ready, 60, f"printer {printer.url} live through {WEB}")
