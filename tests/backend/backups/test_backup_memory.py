"""Backup and restore stream: their peak memory does not grow with the size of what they copy.

Each command runs as an admin runs it (`printstash backup create` / `restore`, a process of its
own, its peak RSS from wait4) on two vaults that differ by one 256 MiB stored file. Reading that
file into memory, or mapping it whole, would add 256 MiB; the copy maps 16 MiB at a time."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from harness.backups import archives, fixture_paths
from harness.paths import BACKEND
from harness.processes import vault_env
from harness.vault import make_settings, migrate

from printstash.core.settings import Settings
from printstash.core.storage import content_path, ensure_layout

# The streaming of stored files is the same whichever database the vault uses: measured once,
# on the SQLite run, to keep the PostgreSQL run short.
pytestmark = pytest.mark.sqlite

BIG = 256 * 1024 * 1024
LIMIT = 48 * 1024 * 1024  # allowed growth from the small vault to the big one


def _vault(path: Path, big: bool) -> Settings:
    settings = make_settings(path)
    migrate(settings)
    ensure_layout(settings)
    if big:
        gcode = fixture_paths()[0].read_bytes()
        body = (gcode * (BIG // len(gcode) + 1))[:BIG]
        target = content_path(settings, hashlib.sha256(body).hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return settings


# Runs the command in-process and records its VmHWM at exit: the peak of this process image
# only. (wait4's ru_maxrss would also count the pytest process the child was forked from.)
RUNNER = """import atexit, runpy, sys
out, sys.argv = sys.argv[1], ["printstash", *sys.argv[2:]]
def peak():
    with open("/proc/self/status") as status, open(out, "w") as fh:
        fh.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(peak)
runpy.run_module("printstash.cli", run_name="__main__")
"""


def _peak_rss(data_dir: Path, *args: str) -> int:
    """Bytes: the peak resident set of `printstash ARGS`."""
    out = data_dir.parent / f"peak-{os.getpid()}.kib"
    done = subprocess.run([sys.executable, "-c", RUNNER, str(out), *args], cwd=BACKEND,
                          env=vault_env(data_dir), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return int(out.read_text()) * 1024


@pytest.mark.parametrize("step", ["create", "restore"])
def test_peak_memory_does_not_grow_with_the_vault(tmp_path: Path, step: str) -> None:
    peaks = []
    for big in (False, True):
        source = _vault(tmp_path / f"source-{big}", big)
        created = _peak_rss(source.data_dir, "backup", "create")
        if step == "create":
            peaks.append(created)
            continue
        [archive] = archives(source)
        restored = tmp_path / f"restored-{big}"
        peaks.append(_peak_rss(restored, "backup", "restore", str(archive)))
        assert any(p.stat().st_size == BIG for p in (restored / "files").rglob("*")) == big
    small, large = peaks
    assert large - small < LIMIT, f"{step}: peak RSS {small / 2**20:.0f} MiB -> {large / 2**20:.0f} MiB"
