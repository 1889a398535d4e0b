"""Default deny: every route answers 401 without credentials unless it is in DESIGN.md's
small public list. Routes are enumerated from the live app (other domains keep adding
routes), so a new route that forgets `user: CurrentUser` fails here."""

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

PUBLIC = {("GET", "/api/v1/auth/status"), ("POST", "/api/v1/auth/setup"), ("POST", "/api/v1/auth/login"),
          ("GET", "/api/version")}
PUBLIC_PREFIXES = ("/api/v1/health",)
FRAMEWORK = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"}


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def _concrete(path: str) -> str:
    # Any value will do: authentication must fail before the id is even looked up.
    return re.sub(r"\{[^}]+\}", "1", path)


def _schema_routes(client: TestClient) -> list[tuple[str, str]]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops
                  if method in {"get", "post", "put", "patch", "delete"})


def _app_routes(client: TestClient) -> list[tuple[str, str]]:
    """Also the routes hidden from the schema (include_in_schema=False)."""
    found = set()
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path not in FRAMEWORK:
            found.update((method, route.path) for method in route.methods - {"HEAD", "OPTIONS"})
    return sorted(found)


@pytest.fixture
def routes(app_client: TestClient) -> list[tuple[str, str]]:
    return sorted(set(_schema_routes(app_client)) | set(_app_routes(app_client)))


def test_every_non_public_route_needs_credentials(app_client: TestClient, routes: list[tuple[str, str]]) -> None:
    assert len(routes) >= 15  # the enumeration really found the app's routes
    open_routes = []
    for method, path in routes:
        if _is_public(method, path):
            continue
        answer = app_client.request(method, _concrete(path), headers={"Origin": "http://testserver"})
        if answer.status_code != 401 or answer.json().get("code") not in {"not_authenticated"}:
            open_routes.append((method, path, answer.status_code))
    assert open_routes == [], f"routes answering without credentials: {open_routes}"


def test_wrong_key_is_refused_everywhere(app_client: TestClient, routes: list[tuple[str, str]]) -> None:
    for method, path in routes:
        if _is_public(method, path) and path != "/api/version":
            continue
        answer = app_client.request(method, _concrete(path), headers={"X-Api-Key": "ps_not_a_key"})
        assert answer.status_code == 401, (method, path, answer.status_code)


def test_public_routes_answer_without_credentials(app_client: TestClient, routes: list[tuple[str, str]]) -> None:
    public = [(m, p) for m, p in routes if _is_public(m, p)]
    assert {("GET", "/api/v1/auth/status"), ("GET", "/api/version")} <= set(public)
    for method, path in public:
        assert app_client.request(method, _concrete(path), json={}).status_code != 401, (method, path)
