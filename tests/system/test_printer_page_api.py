"""What the printer page shows beyond the polled status, against a real Moonraker 0.11.0 +
Klippy: every sensor Klipper reports from Moonraker's temperature store, and the webcams of
Moonraker's webcam list with a current picture fetched through the api (the camera itself is
the loopback streamer of harness/camera.py)."""

from collections.abc import Iterator
from typing import Any

import pytest
from harness.camera import Camera, webcam
from harness.peers import KlipperPrinter
from systemkit import Stack, wait_for

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def printer_id(printstash_stack: Stack, klipper: KlipperPrinter) -> int:
    resp = printstash_stack.admin.post("/api/v1/printers", json={"name": "page voron", "url": klipper.url})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


@pytest.fixture
def camera(klipper: KlipperPrinter) -> Iterator[Camera]:
    """A streamer on the printer's host, listed in Moonraker's webcams the way Mainsail adds one."""
    with webcam() as cam:
        yield cam
    for name in ("snap cam", "stream cam", "far cam"):
        klipper.http.delete("/server/webcams/item", params={"name": name})


def add_webcam(klipper: KlipperPrinter, **item: str) -> None:
    resp = klipper.http.post("/server/webcams/item", json={"service": "mjpegstreamer-adaptive", **item})
    assert resp.status_code == 200, resp.text


def chamber_celsius(klipper: KlipperPrinter) -> float:
    """What the harness's host sensor reads: millidegrees in the file it points Klipper at."""
    return int((klipper.root / "chamber_temp").read_text()) / 1000


def test_temperatures_list_every_sensor_with_its_history(printstash_stack: Stack, printer_id: int,
                                                         klipper: KlipperPrinter) -> None:
    def chamber_at(celsius: float) -> Any:
        def check() -> dict[str, Any] | None:
            """the chamber sensor reads the harness's file"""
            resp = printstash_stack.member.get(f"/api/v1/printers/{printer_id}/temperatures")
            assert resp.status_code == 200, resp.text
            found = [s for s in resp.json()["sensors"] if s["name"] == "chamber"]
            return found[0] if found and found[0]["temperature"] == pytest.approx(celsius) else None
        return wait_for(check, timeout=30, step=0.5)

    before = chamber_celsius(klipper)
    sensor = chamber_at(before)
    assert sensor["kind"] == "temperature_sensor"
    assert sensor["target"] is None and sensor["target_history"] is None  # a sensor, not a heater
    sensor_file = klipper.root / "chamber_temp"
    try:
        sensor_file.write_text("31250\n")  # the chamber warms up: the history shows the step
        history = chamber_at(31.25)["history"]
    finally:
        sensor_file.write_text(f"{round(before * 1000)}\n")
    assert history[-1] == pytest.approx(31.25) and pytest.approx(before) in history
    assert history.index(pytest.approx(before)) < len(history) - 1
    short = printstash_stack.member.get(f"/api/v1/printers/{printer_id}/temperatures", params={"seconds": 2})
    assert all(len(s["history"]) <= 2 for s in short.json()["sensors"])
    too_many = printstash_stack.member.get(f"/api/v1/printers/{printer_id}/temperatures", params={"seconds": 5000})
    assert too_many.status_code == 422 and "detail" in too_many.json()


def test_webcam_pictures_come_through_the_api(printstash_stack: Stack, printer_id: int, klipper: KlipperPrinter,
                                              camera: Camera) -> None:
    add_webcam(klipper, name="snap cam", stream_url=camera.url("/stream"), snapshot_url=camera.url("/snapshot"))
    add_webcam(klipper, name="stream cam", stream_url=camera.url("/stream"))
    cams = printstash_stack.member.get(f"/api/v1/printers/{printer_id}/webcams").json()
    by_name = {cam["name"]: cam for cam in cams["items"]}
    assert cams["total"] == len(cams["items"]) and {"snap cam", "stream cam"} <= set(by_name)
    snap, stream = by_name["snap cam"], by_name["stream cam"]
    assert snap["snapshot_url"] == camera.url("/snapshot") and stream["snapshot_url"] is None

    first = printstash_stack.member.get(snap["picture_url"])
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert first.content in camera.frames and first.headers["cache-control"] == "no-store"
    again = printstash_stack.member.get(snap["picture_url"])
    assert again.content in camera.frames and again.content != first.content  # a new picture each time
    # No snapshot URL: the first frame of the MJPEG stream.
    framed = printstash_stack.member.get(stream["picture_url"])
    assert framed.status_code == 200 and framed.content == camera.frames[0]


def test_a_webcam_elsewhere_or_gone_is_a_clear_409(printstash_stack: Stack, printer_id: int,
                                                   klipper: KlipperPrinter, camera: Camera) -> None:
    # The api fetches from the printer's own host only: "localhost" is another name.
    add_webcam(klipper, name="far cam", stream_url=f"http://localhost:{camera.port}/stream")
    cams = printstash_stack.member.get(f"/api/v1/printers/{printer_id}/webcams").json()["items"]
    far = next(cam for cam in cams if cam["name"] == "far cam")
    resp = printstash_stack.member.get(far["picture_url"])
    assert resp.status_code == 409 and resp.json()["code"] == "webcam_elsewhere", resp.text
    missing = printstash_stack.member.get(f"/api/v1/printers/{printer_id}/webcams/{len(cams)}/picture")
    assert missing.status_code == 404 and missing.json()["code"] == "webcam_not_found"
    camera.stop()  # the streamer goes away
    add_webcam(klipper, name="snap cam", stream_url=camera.url("/stream"), snapshot_url=camera.url("/snapshot"))
    snap = next(cam for cam in printstash_stack.member.get(f"/api/v1/printers/{printer_id}/webcams").json()["items"]
                if cam["name"] == "snap cam")
    gone = printstash_stack.member.get(snap["picture_url"])
    assert gone.status_code == 409 and gone.json()["code"] == "webcam_unavailable", gone.text


def test_an_offline_printer_answers_409_for_temperatures_and_webcams(printstash_stack: Stack) -> None:
    created = printstash_stack.admin.post("/api/v1/printers", json={"name": "unplugged", "url": "http://127.0.0.1:9"})
    offline = created.json()["id"]
    for path in ("temperatures", "webcams", "webcams/0/picture"):
        resp = printstash_stack.member.get(f"/api/v1/printers/{offline}/{path}")
        assert resp.status_code == 409 and resp.json()["code"] == "printer_offline", (path, resp.text)
    assert printstash_stack.member.get("/api/v1/printers/999999/temperatures").status_code == 404
