"""The floor for an HTTP poller: the same request per printer per interval with httpx (the
objects query), JSON decoded, nothing stored. What PrintStash's worker costs above this is
its own overhead.

    python bare_poll.py BASE_URL N INTERVAL
"""

import asyncio
import sys

import httpx


async def poll(http: httpx.AsyncClient, base: str, interval: float) -> None:
    while True:
        (await http.get(f"{base}/printer/objects/query?webhooks&print_stats&virtual_sdcard&display_status"
                        "&extruder=temperature,target&heater_bed=temperature,target")).json()
        await asyncio.sleep(interval)


async def one(base: str, interval: float, tls: object) -> None:
    # a client per printer, like the worker: httpcore's pool scan is O(connections)
    async with httpx.AsyncClient(verify=tls, timeout=10.0) as http:  # type: ignore[arg-type]
        await poll(http, base, interval)


async def main(base: str, n: int, interval: float) -> None:
    tls = httpx.create_ssl_context()
    await asyncio.gather(*(one(f"{base}/p/{i}", interval, tls) for i in range(n)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
