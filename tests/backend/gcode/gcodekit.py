"""Helpers for the G-code tests: the fixture manifest and the real Moonraker extractor."""

import json
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from harness.paths import GCODE_FIXTURES
from harness.venvs import moonraker_python

SYNTHETIC = Path(__file__).parent / "synthetic"  # hand-written snippets (see its README)
REAL = Path(__file__).parent / "real"  # real slicer output made for these tests (see its README)
MOONRAKER_TIMEOUT = 60


@cache
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GCODE_FIXTURES / "manifest.json").read_text())
    return data


def fixture_entries() -> list[dict[str, Any]]:
    return list(manifest()["files"])


def fixture_path(entry: dict[str, Any]) -> Path:
    return GCODE_FIXTURES / entry["file"]


def all_gcode_files() -> list[Path]:
    """The shared corpus, then our own real files, then the synthetic snippets."""
    corpus = [fixture_path(e) for e in fixture_entries()]
    return corpus + sorted(REAL.glob("*.gcode")) + sorted(SYNTHETIC.glob("*.gcode"))


@cache
def moonraker_metadata_script() -> Path:
    python = moonraker_python()
    code = "import moonraker.components.file_manager.metadata as m; print(m.__file__)"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def run_moonraker_metadata(gcode: Path) -> dict[str, Any]:
    """Moonraker 0.11.0's extractor, run as Moonraker runs it: `python metadata.py -c cfg.json`
    in its own process, on a copy of the file (it writes .thumbs/ beside the file)."""
    python = moonraker_python()
    with tempfile.TemporaryDirectory(prefix="ps-moon-") as tmp:
        gcodes = Path(tmp) / "gcodes"
        gcodes.mkdir()
        shutil.copyfile(gcode, gcodes / gcode.name)
        cfg = Path(tmp) / "cfg.json"
        cfg.write_text(json.dumps({"filename": gcode.name, "gcode_dir": str(gcodes), "check_objects": False}))
        out = subprocess.run([str(python), str(moonraker_metadata_script()), "-c", str(cfg)],
                             capture_output=True, text=True, timeout=MOONRAKER_TIMEOUT, check=True)
    result: dict[str, Any] = json.loads(out.stdout)["metadata"]
    return result
