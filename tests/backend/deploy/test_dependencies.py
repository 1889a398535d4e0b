"""Every dependency backend/pyproject.toml declares for the package is imported by it, and
every type-stub package is for one of them: nothing is installed for nobody."""

import ast
import re
import tomllib
from importlib.metadata import packages_distributions

from harness.paths import BACKEND


def _name(requirement: str) -> str:
    """'uvicorn[standard]==0.54.0' -> 'uvicorn' (normalised as the packaging spec says)."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


def _project() -> dict[str, list[str]]:
    data = tomllib.loads((BACKEND / "pyproject.toml").read_text())
    return {"runtime": data["project"]["dependencies"], "dev": data["project"]["optional-dependencies"]["dev"]}


def _imported_distributions() -> set[str]:
    """Distributions providing a top-level module that printstash or its migrations import."""
    tops: set[str] = set()
    for path in [*(BACKEND / "printstash").rglob("*.py"), *(BACKEND / "alembic").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops.add(node.module.split(".")[0])
    owners = packages_distributions()
    return {_name(dist) for top in tops for dist in owners.get(top, [])}


def test_every_runtime_dependency_is_imported() -> None:
    declared = {_name(r) for r in _project()["runtime"]}
    assert declared, "no dependencies read"
    assert declared - _imported_distributions() == set()


def test_type_stubs_are_for_runtime_dependencies() -> None:
    runtime = {_name(r) for r in _project()["runtime"]}
    stubs = [_name(r) for r in _project()["dev"] if _name(r).startswith("types-")]
    assert [s for s in stubs if s.removeprefix("types-") not in runtime] == []
