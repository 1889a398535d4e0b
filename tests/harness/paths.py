"""Well-known paths of the repository, for tests and benchmarks."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BACKEND = REPO / "backend"
TESTS = REPO / "tests"
FIXTURES = TESTS / "fixtures"
GCODE_FIXTURES = FIXTURES / "gcode"
MODEL_FIXTURES = FIXTURES / "models"
