#!/usr/bin/env python3
"""Upload G-code to PrintStash from a slicer's post-processing hook.

    printstash-upload.py [--url URL] [--api-key KEY] [--name NAME] [--strict] FILE [FILE ...]

The server URL and API key come from the arguments or from PRINTSTASH_URL and
PRINTSTASH_API_KEY. PrusaSlicer, SuperSlicer and OrcaSlicer run post-processing scripts on a
temporary copy and put the final file name in SLIC3R_PP_OUTPUT_NAME, which is used as the
name in the vault. Standard library only, so it runs with any Python 3.8+.

It never fails the slicer's export: when PrintStash is down or refuses the file it says so on
stderr (and in PRINTSTASH_LOG, if set), retries briefly, and exits 0. Pass --strict to exit 1
on failure instead.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

CHUNK = 1024 * 1024
CONNECT_TIMEOUT_S = 5.0  # an address that does not answer at all fails fast
READ_TIMEOUT_S = 120.0  # PrintStash answers after storing and parsing the file
RETRY_DELAYS_S = (1.0, 2.0, 4.0)  # brief: the slicer waits for us
MAX_RETRY_AFTER_S = 10.0
RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


def log(message: str) -> None:
    line = f"printstash-upload: {message}"
    print(line, file=sys.stderr)
    target = os.environ.get("PRINTSTASH_LOG")
    if target:
        try:
            with Path(target).open("a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
        except OSError:
            pass


def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Upload G-code to PrintStash (slicer post-processing hook).")
    parser.add_argument("files", nargs="+", help="G-code file(s); slicers pass the temporary output path")
    parser.add_argument("--url", default=os.environ.get("PRINTSTASH_URL", ""),
                        help="PrintStash address, e.g. http://vault.local:3000 (env PRINTSTASH_URL)")
    parser.add_argument("--api-key", default=os.environ.get("PRINTSTASH_API_KEY", ""),
                        help="an API key from PrintStash's Keys page (env PRINTSTASH_API_KEY)")
    parser.add_argument("--name", default="", help="name in the vault (default: SLIC3R_PP_OUTPUT_NAME or the file's)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the upload fails")
    return parser.parse_args(argv)


def upload_name(path: Path, explicit: str) -> str:
    final = explicit or os.environ.get("SLIC3R_PP_OUTPUT_NAME", "")
    # The final name may be a full path (PrusaSlicer) with either separator (Windows).
    name = final.replace("\\", "/").rsplit("/", 1)[-1] if final else path.name
    return name or path.name


def multipart(path: Path, name: str) -> "tuple[str, int, object]":
    """Content-Type, Content-Length and a generator that streams the file (no copy in memory)."""
    boundary = uuid.uuid4().hex
    quoted = name.replace("\\", "_").replace('"', "'").replace("\r", " ").replace("\n", " ")
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with path.open("rb") as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                yield chunk
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + path.stat().st_size + len(tail), body


def reachable(url: str) -> None:
    """Raise OSError quickly when nothing listens at the server's address."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT_S).close()


def send(url: str, key: str, path: Path, name: str) -> "tuple[int, dict, dict]":
    reachable(url)
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection(parts.hostname or "", parts.port, timeout=READ_TIMEOUT_S)
    ctype, length, body = multipart(path, name)
    try:
        conn.putrequest("POST", parts.path.rstrip("/") + "/api/v1/files")
        for header, value in {"X-Api-Key": key, "Content-Type": ctype, "Content-Length": str(length),
                              "User-Agent": "printstash-upload/1", "Accept": "application/json"}.items():
            conn.putheader(header, value)
        conn.endheaders()
        try:
            for chunk in body():
                conn.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            # A refusal (wrong key, not G-code, too large) is answered before the whole body is
            # read and the server closes: its answer is waiting for us, so read it, don't retry.
            pass
        answer = conn.getresponse()
        return answer.status, _json(answer.read()), dict(answer.getheaders())
    finally:
        conn.close()


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def retry_delay(attempt: int, headers: dict) -> float:
    retry_after = headers.get("Retry-After", "")
    if retry_after.isdigit():
        return min(float(retry_after), MAX_RETRY_AFTER_S)
    return RETRY_DELAYS_S[attempt]


def upload(url: str, key: str, path: Path, name: str) -> bool:
    """True when PrintStash has the file (new or already stored)."""
    for attempt in range(len(RETRY_DELAYS_S) + 1):
        headers: dict = {}
        try:
            status, answer, headers = send(url, key, path, name)
        except (OSError, http.client.HTTPException) as error:  # refused, DNS, timeout, reset
            status, answer = 0, {"detail": f"could not reach {url}: {getattr(error, 'reason', error)}"}
        if status in (200, 201):
            what = "already stored as" if answer.get("duplicate") else "stored as"
            log(f"{path.name}: {what} {answer.get('name', name)!r} (id {answer.get('id')})")
            return True
        detail = answer.get("detail") or f"HTTP {status}"
        if status and status not in RETRYABLE:
            log(f"{name}: refused by PrintStash ({status}): {detail}")
            return False
        if attempt < len(RETRY_DELAYS_S):
            delay = retry_delay(attempt, headers)
            log(f"{name}: {detail}; retrying in {delay:.0f} s")
            time.sleep(delay)
    log(f"{name}: giving up: {detail}. The slicer's export itself is unaffected.")
    return False


def main(argv: list) -> int:
    args = parse_args(argv)
    if not args.url.startswith(("http://", "https://")) or not args.api_key:
        log("set PRINTSTASH_URL (http://...) and PRINTSTASH_API_KEY, or pass --url and --api-key; not uploading")
        return 1 if args.strict else 0
    ok = True
    for file in args.files:
        path = Path(file)
        if not path.is_file():
            log(f"{file}: no such file; not uploading")
            ok = False
            continue
        ok = upload(args.url, args.api_key, path, upload_name(path, args.name)) and ok
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as error:  # never break the slicer's export
        log(f"unexpected error: {error!r}")
        sys.exit(0)
