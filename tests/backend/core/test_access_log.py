"""The real api's access log (uvicorn) never holds a credential pasted into a query string."""

from pathlib import Path

import httpx
from harness.processes import free_port, printstash, stop, vault_env, wait_http
from harness.vault import make_settings, migrate

from printstash.core.logging import redact_query

SECRET = "ps_0123456789abcdefSECRET"


def test_credential_looking_parameters_are_redacted_in_the_access_log(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    port = free_port()
    proc = printstash("serve", "--port", str(port), env=vault_env(settings.data_dir))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/api/v1/health/live")
        for query in (f"api_key={SECRET}&q=benchy", f"q=benchy&X-Api-Key={SECRET}", f"token={SECRET}",
                      f"access_token={SECRET}#x", f"password={SECRET}", f"X-Amz-Signature={SECRET}&limit=5"):
            httpx.get(f"{base}/api/v1/files?{query}", timeout=10)
    finally:
        log = stop(proc)
    assert "GET /api/v1/files?api_key=***&q=benchy" in log and "q=benchy&X-Api-Key=***" in log
    assert "X-Amz-Signature=***&limit=5" in log
    assert SECRET not in log


def test_redact_query_keeps_ordinary_parameters() -> None:
    assert redact_query("/api/v1/files?q=key+ring&sort=-size") == "/api/v1/files?q=key+ring&sort=-size"
    assert redact_query("/api/v1/files") == "/api/v1/files"
    assert redact_query("/x?sessionid=abc&offset=5") == "/x?sessionid=***&offset=5"
