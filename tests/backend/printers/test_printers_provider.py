"""The Moonraker provider on responses recorded from the real Moonraker 0.11.0 + PyPI Klippy
(recorded/, captured on this machine), plus the poller's pure rules (backoff, timeouts,
write throttling). The live behaviour is tested against the real peers in tests/system."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from printstash.printers import poller
from printstash.printers.providers.base import Layer, LiveStatus, ProviderError, Unreachable
from printstash.printers.providers.moonraker import MoonrakerProvider

RECORDED = Path(__file__).parent / "recorded"


def _recorded(name: str) -> tuple[int, Any]:
    data = json.loads((RECORDED / f"{name}.json").read_text())
    return int(data["status"]), data["body"]


def _provider(routes: dict[str, tuple[int, Any]]) -> MoonrakerProvider:
    def handle(request: httpx.Request) -> httpx.Response:
        status, body = routes.get(request.url.path, (404, {"error": {"message": "Not Found"}}))
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return MoonrakerProvider(http, "http://printer", None)


def _status(routes: dict[str, tuple[int, Any]]) -> LiveStatus:
    return asyncio.run(_provider(routes).fetch_status())


def test_recorded_standby() -> None:
    st = _status({"/printer/objects/query": _recorded("objects_query_standby")})
    assert st.state == "standby" and st.online and st.klippy_state == "ready"
    assert st.progress == 0.0 and st.filename is None and st.eta_s is None
    # the batch-mode Klippy has no heaters: recorded as {} -> null, not zeros
    assert st.extruder is None and st.heater_bed is None


def test_recorded_print_sample_is_printing_with_layer_and_progress() -> None:
    sample = json.loads((RECORDED / "print_progress.json").read_text())["samples"][1]
    _, standby = _recorded("objects_query_standby")
    status = {**standby["result"]["status"], **{k: sample[k] for k in ("print_stats", "virtual_sdcard",
                                                                       "display_status")}}
    st = _status({"/printer/objects/query": (200, {"result": {"status": status}}),
                  "/server/files/metadata": (404, {"error": {"message": "no metadata"}})})
    assert st.state == "printing" and st.filename == sample["print_stats"]["filename"]
    assert st.progress == pytest.approx(sample["virtual_sdcard"]["progress"], abs=1e-4)
    assert st.layer == Layer(current=sample["print_stats"]["info"]["current_layer"],
                             total=sample["print_stats"]["info"]["total_layer"])


def test_recorded_no_klippy_is_klippy_not_ready() -> None:
    st = _status({"/printer/objects/query": _recorded("objects_query_no_klippy"),
                  "/server/info": _recorded("server_info_no_klippy")})
    assert st.state == "klippy_not_ready" and st.online is True
    assert st.klippy_state == "disconnected" and "not connected" in st.message


def test_garbage_and_wrong_shapes_are_provider_errors() -> None:
    for body in (b"<html>not json", b"[1, 2]", b'{"result": {"status": "nope"}}'):
        with pytest.raises(ProviderError) as err:
            _status({"/printer/objects/query": (200, body)})
        assert not isinstance(err.value, Unreachable)
    with pytest.raises(ProviderError, match="500"):
        _status({"/printer/objects/query": (500, {"error": {"message": "boom"}})})


def test_recorded_history_parses() -> None:
    _, body = _recorded("history_list")
    jobs = asyncio.run(_provider({"/server/history/list": (200, body)}).fetch_history(None))
    raw = body["result"]["jobs"][0]
    assert [(j.job_id, j.filename, j.status, j.finished) for j in jobs] == [
        (raw["job_id"], raw["filename"], raw["status"], True)]
    assert jobs[0].start_time == raw["start_time"]


def test_refused_connection_is_unreachable() -> None:
    async def go() -> None:
        async with httpx.AsyncClient() as http:
            from harness.processes import free_port
            await MoonrakerProvider(http, f"http://127.0.0.1:{free_port()}", None).fetch_status()
    with pytest.raises(Unreachable, match="cannot connect"):
        asyncio.run(go())


def test_backoff_grows_and_is_capped() -> None:
    assert [poller.backoff(2.0, f) for f in range(7)] == [2.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0]
    assert poller.backoff(10.0, 9) == 30.0  # never more than 30 s
    assert poller.backoff(60.0, 9) == 60.0  # never less than the interval
    assert poller.call_timeout(0.5) == 2.0 and poller.call_timeout(2.0) == 4.0 and poller.call_timeout(60) == 10.0


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_record_writes_changes_throttles_minor_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(poller.time, "monotonic", clock)
    writer = poller.Writer(ctx=None)  # type: ignore[arg-type]  (only collects here)
    target = poller.Target(1, "p", "moonraker", "http://x", None, 2.0)
    watch = poller.PrinterWatch(ctx=None, http=httpx.AsyncClient(), target=target, writer=writer)  # type: ignore[arg-type]
    base = poller.failed_status("offline", "x").model_copy(update={"state": "printing", "online": True, "error": None})

    def record(**change: Any) -> poller.Pending | None:
        writer.pending.clear()
        watch._record(base.model_copy(update=change), ok=True)
        return writer.pending.get(1)

    first = record(progress=0.1)
    assert first is not None and first.status is not None and first.last_seen is not None
    clock.now += 0.5
    assert record(progress=0.2) is None  # minor change inside the interval: later
    clock.now += 0.5
    paused = record(progress=0.2, state="paused")
    assert paused is not None and paused.status.state == "paused"  # significant: at once
    clock.now += 2.1
    minor = record(progress=0.3, state="paused")
    assert minor is not None and minor.status is not None  # minor, interval passed
    clock.now += 1.0
    assert record(progress=0.3, state="paused") is None  # nothing changed
    clock.now += 5.0
    seen = record(progress=0.3, state="paused")
    assert seen is not None and seen.status is None and seen.last_seen is not None  # keep-alive


def test_poller_follows_added_changed_and_removed_printers(vault: Any, db: Any) -> None:
    """Poller.sync against the real printers table: tasks start, restart on edit, stop."""
    from printstash.core.runtime import WorkerContext
    from printstash.printers.models import Printer

    async def go() -> None:
        stopping = asyncio.Event()
        async with httpx.AsyncClient() as http:
            ctx = WorkerContext(vault, db, http, stopping, "test")
            p = poller.Poller(ctx)
            with db.write() as s:
                s.add(Printer(name="a", provider="moonraker", base_url="http://127.0.0.1:9"))
            await p.sync(p.targets())
            assert [t.name for t, _ in p.tasks.values()] == ["a"]
            first_task = next(iter(p.tasks.values()))[1]
            with db.write() as s:
                s.query(Printer).update({"base_url": "http://127.0.0.1:10"})
            await p.sync(p.targets())
            target, task = next(iter(p.tasks.values()))
            assert target.base_url == "http://127.0.0.1:10" and task is not first_task
            assert first_task.cancelled() or first_task.done()
            with db.write() as s:
                s.query(Printer).delete()
            await p.sync(p.targets())
            assert p.tasks == {} and (task.cancelled() or task.done())
            stopping.set()
    asyncio.run(go())
