"""Private virtualenvs for real peers (Moonraker, Klippy, OctoPrint) under <repo>/.peers.

Peers are GPL/AGPL programs we run as external tools; they never share our environment.
Created on first use (PyPI only) and reused afterwards; a lock keeps parallel runs apart.
"""

import fcntl
import subprocess
import sys
from pathlib import Path

from harness.paths import REPO

PEERS_DIR = REPO / ".peers"


def ensure_venv(name: str, requirements: list[str]) -> Path:
    """Return the python of .peers/venv-<name>, with `requirements` installed."""
    venv = PEERS_DIR / f"venv-{name}"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    wanted = "\n".join(requirements)
    PEERS_DIR.mkdir(exist_ok=True)
    with (PEERS_DIR / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == wanted and python.exists():
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
                       check=True)
        stamp.write_text(wanted)
    return python


def moonraker_python() -> Path:
    """Real Moonraker 0.11.0 from PyPI (its metadata extractor and its server)."""
    return ensure_venv("moonraker", ["moonraker==0.11.0"])
