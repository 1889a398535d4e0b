"""Every api answer forbids framing and carries the api's strict policy (it serves JSON and
downloads, never a page): success, error, download, compat paths and the docs page."""

from fastapi.testclient import TestClient

from printstash.core.headers import API_CSP, DOCS_CSP


def _check(answer_headers: object, csp: str) -> None:
    headers = dict(answer_headers)  # type: ignore[call-overload]
    assert headers["content-security-policy"] == csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_api_answers_carry_the_security_headers(admin_client: TestClient, app_client: TestClient) -> None:
    for client, path in ((admin_client, "/api/v1/files"), (admin_client, "/api/v1/files/999"),
                         (app_client, "/api/v1/files"), (app_client, "/api/v1/health/live"),
                         (app_client, "/api/version"), (admin_client, "/api/v1/openapi.json"),
                         (app_client, "/no/such/route")):
        answer = client.get(path)
        _check(answer.headers, API_CSP)
        assert answer.headers.get_list("x-frame-options") == ["DENY"]
    _check(app_client.get("/api/v1/docs").headers, DOCS_CSP)
    uploaded = admin_client.post("/api/v1/files", files={"file": ("a.gcode", b"G28\nG1 X1\n", "text/x-gcode")})
    assert uploaded.status_code == 201, uploaded.text
    _check(admin_client.get(f"/api/v1/files/{uploaded.json()['id']}/download").headers, API_CSP)
