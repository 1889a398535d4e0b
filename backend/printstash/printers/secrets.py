"""Printer API keys are stored encrypted (Fernet) with a key kept in <DATA_DIR>/secrets.

The key file sits beside the data it protects so a backup of the data dir restores working
printers; a leaked database alone does not leak printer keys. api and worker may both be
first to need the key, so creation is race-free: write a private temp file, then link() it
into place, which fails if the other process won.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from printstash.core.settings import Settings
from printstash.core.storage import fsync_dir

KEY_FILE = "printer_api_keys.fernet"


def key_path(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / KEY_FILE


def _create_key(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, Fernet.generate_key())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process created it first; use theirs
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def _fernet(settings: Settings) -> Fernet:
    path = key_path(settings)
    if not path.exists():
        _create_key(path)
    return Fernet(path.read_bytes().strip())


def encrypt(settings: Settings, plain: str) -> str:
    return _fernet(settings).encrypt(plain.encode()).decode("ascii")


def decrypt(settings: Settings, token: str) -> str | None:
    """The plain key, or None when the key file does not match (e.g. restored elsewhere)."""
    try:
        return _fernet(settings).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None
