"""Printer URLs: credentials and malformed URLs are refused on create and update; a URL saved
with credentials before that check is never shown to members nor written to the log."""

import logging
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from printstash.core.db import Database
from printstash.printers.models import Printer
from printstash.printers.poller import PrinterWatch, Target
from printstash.printers.providers.base import LiveStatus
from printstash.printers.urls import redacted

GOOD = "http://printer.local:7125"
BAD = [
    "http://admin:pw@printer.local:7125", "http://admin@printer.local", "https://:pw@10.0.0.2",
    "http://printer.local:0", "http://printer.local:65536", "http://printer.local:99999999999",
    "http://printer.local:", "http://printer.local:port", "http://print er.local", "http://printer.local/\x00",
    "http://printer.local\r\n:7125", "http://printer\t.local", "http://[::1", "http://[zz::1]:7125",
    "http://-bad-.local", "http://bad..host", "http://", "http://:7125", "file:///etc/passwd",
    "javascript:alert(1)", "http://printer.local/#frag", "http://printer.local/?",
]


@pytest.mark.parametrize("url", BAD)
def test_bad_urls_are_a_clear_422_on_create_and_update(admin_client: TestClient, url: str) -> None:
    resp = admin_client.post("/api/v1/printers", json={"name": "p", "url": url})
    assert resp.status_code == 422, (url, resp.text)
    assert resp.json()["code"] == "validation_error" and "url" in resp.json()["detail"]
    pid = admin_client.post("/api/v1/printers", json={"name": "ok", "url": GOOD}).json()["id"]
    patched = admin_client.patch(f"/api/v1/printers/{pid}", json={"url": url})
    assert patched.status_code == 422, (url, patched.text)
    assert admin_client.get(f"/api/v1/printers/{pid}").json()["url"] == GOOD


def test_credentials_point_to_the_api_key(admin_client: TestClient) -> None:
    resp = admin_client.post("/api/v1/printers", json={"name": "p", "url": "http://admin:pw@host:7125"})
    assert "api_key" in resp.json()["detail"] and "pw" not in resp.json()["detail"]


@pytest.mark.parametrize("url", ["http://printer.local:7125", "https://10.0.0.2", "http://[fe80::1]:7125",
                                 "http://my_printer:80/moonraker", "HTTP://Printer.Local:65535/"])
def test_good_urls_are_kept(admin_client: TestClient, url: str) -> None:
    resp = admin_client.post("/api/v1/printers", json={"name": "p", "url": url})
    assert resp.status_code == 201, resp.text
    assert resp.json()["url"] == url.rstrip("/")


def test_a_legacy_url_with_credentials_is_redacted_for_members_and_in_the_log(
        admin_client: TestClient, member_client: TestClient, db: Database) -> None:
    with db.write() as session:
        row = Printer(name="old", provider="moonraker", base_url="http://admin:s3cret@printer.local:7125")
        session.add(row)
        session.flush()
        pid = row.id
    shown = member_client.get(f"/api/v1/printers/{pid}").json()["url"]
    assert shown == "http://***@printer.local:7125"
    watch = SimpleNamespace(target=Target(pid, "old", "moonraker", "http://admin:s3cret@printer.local:7125",
                                          None, 2.0), written=None)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("printstash.printers")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        PrinterWatch._log_change(watch, LiveStatus(state="offline", error="cannot connect"))  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    text = " ".join(r.getMessage() for r in records)
    assert "printer.local" in text and "s3cret" not in text and "admin" not in text


def test_redacted_leaves_plain_urls_alone() -> None:
    assert redacted(GOOD) == GOOD
    assert redacted("http://u:p@h:1/x") == "http://***@h:1/x"
