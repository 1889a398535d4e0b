"""The printer page's pure parts: where a webcam URL points (only ever the printer's own
host) and how Moonraker's temperature-store names read (the real Moonraker answers are
covered in tests/system/test_printer_page_api.py)."""

import pytest

from printstash.core.errors import Conflict
from printstash.printers.monitor import camera_url
from printstash.printers.providers.moonraker import _series, _webcam


@pytest.mark.parametrize(("printer", "configured", "fetched"), [
    # crowsnest / MainsailOS write paths: the printer's web server on port 80
    ("http://voron.local:7125", "/webcam/?action=snapshot", "http://voron.local/webcam/?action=snapshot"),
    ("https://voron.local:7125", "webcam/snap.jpg", "https://voron.local/webcam/snap.jpg"),
    ("http://192.168.1.20:7125", "http://192.168.1.20:8080/?action=stream", "http://192.168.1.20:8080/?action=stream"),
    ("http://[fd00::20]:7125", "/webcam2/?action=snapshot", "http://[fd00::20]/webcam2/?action=snapshot"),
])
def test_webcam_urls_are_taken_on_the_printers_host(printer: str, configured: str, fetched: str) -> None:
    assert camera_url(printer, configured) == fetched


@pytest.mark.parametrize("configured", [
    "http://169.254.169.254/latest/meta-data/", "http://localhost:8080/?action=snapshot", "file:///etc/passwd",
    "//elsewhere.example/cam.jpg", "ftp://voron.local/cam.jpg",
])
def test_webcam_urls_elsewhere_are_refused(configured: str) -> None:
    with pytest.raises(Conflict) as refused:
        camera_url("http://voron.local:7125", configured)
    assert refused.value.code == "webcam_elsewhere"


def test_temperature_store_names_become_kinds_and_short_names() -> None:
    fan = _series("temperature_fan exhaust", {"temperatures": [40.1, None, "x"], "targets": [45.0, 45.0, 45.0],
                                              "speeds": [0.2, 0.5]})
    assert (fan.name, fan.kind, fan.temperatures, fan.targets, fan.speed) == (
        "exhaust", "temperature_fan", [40.1, None, None], [45.0, 45.0, 45.0], 0.5)
    assert _series("extruder1", {"temperatures": [], "targets": []}).kind == "heater"
    assert _series("heater_bed", {}).kind == "heater"
    assert _series("heater_generic chamber_heater", {}).name == "chamber_heater"
    sensor = _series("temperature_sensor mcu_temp", {"temperatures": [35.0]})
    assert (sensor.kind, sensor.targets, sensor.speed) == ("temperature_sensor", None, None)


def test_webcam_entries_keep_only_sane_values() -> None:
    cam = _webcam({"name": "", "stream_url": "/webcam/?action=stream", "snapshot_url": "", "rotation": 45,
                   "flip_horizontal": "yes", "flip_vertical": True})
    assert (cam.name, cam.stream_url, cam.snapshot_url, cam.rotation, cam.flip_horizontal, cam.flip_vertical) == (
        "webcam", "/webcam/?action=stream", None, 0, False, True)
