"""What can be checked without a Docker engine: compose schema, Dockerfile lint, and that the
upgrade guide's commands name services, paths and tools these files really have."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from harness.paths import BACKEND, FIXTURES, REPO

from printstash.cli import build_parser

COMPOSE = REPO / "docker-compose.yml"
UPGRADING = REPO / "docs" / "upgrading.md"
TOOLS = Path(sys.executable).parent


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def test_compose_file_validates_against_the_compose_spec() -> None:
    schema = FIXTURES / "compose" / "compose-spec.schema.json"
    proc = subprocess.run([str(TOOLS / "check-jsonschema"), "--schemafile", str(schema), str(COMPOSE)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_shape() -> None:
    doc = compose()
    services = doc["services"]
    assert set(services) == {"api", "worker", "frontend"}
    assert services["api"]["image"] == "ghcr.io/xiao-villamor/printstash-api:${PRINTSTASH_VERSION:-latest}"
    assert services["frontend"]["image"] == "ghcr.io/xiao-villamor/printstash-frontend:${PRINTSTASH_VERSION:-latest}"
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"frontend"} and services["frontend"]["ports"] == ["3000:3000"]
    for name in ("api", "worker"):
        assert services[name]["volumes"] == ["printstash-data:/data"]
        assert services[name]["environment"]["VAULT_DATA_DIR"] == "/data"
        assert (REPO / services[name]["build"]["dockerfile"]).exists()
    assert (REPO / services["frontend"]["build"]["dockerfile"]).exists()
    assert list(doc["volumes"]) == ["printstash-data"]


@pytest.mark.parametrize("dockerfile", ["Dockerfile.api", "Dockerfile.frontend"])
def test_dockerfiles_pass_hadolint(dockerfile: str) -> None:
    path = REPO / dockerfile
    assert path.exists(), f"{dockerfile} is missing"
    proc = subprocess.run([str(TOOLS / "hadolint"), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_api_image_runs_the_backend_project_as_the_guide_expects() -> None:
    text = (REPO / "Dockerfile.api").read_text()
    assert re.search(r"^WORKDIR /app/backend$", text, re.M)
    assert "COPY --chown=printstash:printstash backend/ ./" in text
    assert "pip install --no-cache-dir uv" in text
    assert "VAULT_DATA_DIR=/data" in text
    assert (BACKEND / "alembic.ini").exists()  # what `uv run alembic` in /app/backend reads


def guide_commands() -> list[str]:
    """Shell lines of the fenced code blocks in docs/upgrading.md."""
    blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", UPGRADING.read_text(), re.S)
    lines = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_upgrade_guide_has_the_promised_steps_in_order() -> None:
    text = "\n".join(guide_commands())
    steps = ["printstash maintenance on", "printstash backup create", "docker compose pull",
             "docker compose run --rm api uv run alembic upgrade head", "docker compose up -d",
             "cd backend && uv sync --extra dev && uv run alembic upgrade head", "printstash backup restore"]
    positions = [text.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions[:5] == sorted(positions[:5])
    assert "docker compose build --pull" in text
    assert "sqlite:////data/db/nexus3d.sqlite" in UPGRADING.read_text()


def test_upgrade_guide_names_only_real_services_and_commands() -> None:
    services = set(compose()["services"])
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    for line in guide_commands():
        for match in re.finditer(r"docker compose (?:run --rm|exec|stop|start|restart|logs|cp)\s+(\S+)", line):
            target = match.group(1).split(":")[0]
            assert target in services, f"unknown service in: {line}"
        for match in re.finditer(r"printstash (\w[\w-]*)", line):
            assert match.group(1) in subcommands, f"unknown printstash command in: {line}"
        for path in re.findall(r"(/data/\S+)", line):
            assert path.startswith(("/data/db/", "/data/backups/")), f"unexpected data path in: {line}"
        if line.startswith("cd "):
            assert (REPO / line.split()[1]).is_dir(), line


def test_backup_and_maintenance_commands_in_the_guide_exist() -> None:
    parser = build_parser()
    for args in (["maintenance", "on"], ["maintenance", "off"], ["backup", "create"], ["backup", "list"],
                 ["backup", "verify", "x.tar"], ["backup", "restore", "x.tar"]):
        parser.parse_args(args)

