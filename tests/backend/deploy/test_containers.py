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
    published = {name: svc["ports"] for name, svc in services.items() if svc.get("ports")}
    # The guide's health URL is localhost:8000: the api is published, on loopback unless overridden.
    assert published == {"frontend": ["3000:3000"], "api": ["${PRINTSTASH_API_PUBLISH:-127.0.0.1:8000}:8000"]}
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
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", UPGRADING.read_text(), re.S | re.M)
    lines = [line.split(" #")[0].strip() for lang, block in blocks if lang in ("", "sh", "bash", "shell")
             for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_upgrade_guide_has_the_promised_steps_in_order() -> None:
    text = "\n".join(guide_commands())
    steps = ["printstash maintenance on", "printstash backup create", "docker compose down", "docker compose pull",
             "docker compose run --rm api uv run alembic upgrade head", "docker compose up -d",
             "cd backend && uv sync --extra dev && uv run alembic upgrade head", "printstash backup restore"]
    positions = [text.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions[:6] == sorted(positions[:6])
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



def test_dockerfiles_take_their_base_images_as_arguments_defaulting_to_the_public_ones() -> None:
    api = (REPO / "Dockerfile.api").read_text()
    frontend = (REPO / "Dockerfile.frontend").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm\nFROM ${PYTHON_IMAGE}\n" in api
    assert "ARG NODE_IMAGE=node:20-bookworm-slim\n" in frontend and "FROM ${NODE_IMAGE} AS build\n" in frontend
    assert "ARG NGINX_IMAGE=nginx:1.27-bookworm\n" in frontend and "\nFROM ${NGINX_IMAGE}\n" in frontend


def test_override_example_in_the_guide_pins_both_images(tmp_path: Path) -> None:
    """docs/upgrading.md's docker-compose.override.yml, merged by podman-compose config."""
    text = UPGRADING.read_text()
    example = re.search(r"`docker-compose.override.yml`.*?```yaml\n(.*?)```", text, re.S)
    assert example, "no docker-compose.override.yml example in docs/upgrading.md"
    override = yaml.safe_load(example.group(1))
    assert set(override["services"]) <= set(compose()["services"])
    (tmp_path / "docker-compose.yml").write_text(COMPOSE.read_text())
    (tmp_path / "docker-compose.override.yml").write_text(example.group(1))
    files = ["-f", "docker-compose.yml", "-f", "docker-compose.override.yml"]
    proc = subprocess.run([str(TOOLS / "podman-compose"), *files, "config"], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PRINTSTASH_VERSION": "not-this-one"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    images = {name: svc["image"] for name, svc in services.items()}
    version = images["frontend"].rsplit(":", 1)[1]
    assert images == {"api": f"ghcr.io/xiao-villamor/printstash-api:{version}",
                      "worker": f"ghcr.io/xiao-villamor/printstash-api:{version}",
                      "frontend": f"ghcr.io/xiao-villamor/printstash-frontend:{version}"}
    assert version != "not-this-one"
