"""The interface every store of content-addressed data keeps (core/storage.py LocalStorage,
core/s3.py S3Storage) and what it answers with; apart from core/storage.py so the S3 store can
implement it without importing the module that chooses between the stores."""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import quote

from printstash.core.errors import Unavailable

READ_CHUNK = 1024 * 1024


class StorageUnavailable(Unavailable):
    code = "storage_unavailable"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: float  # seconds since the epoch


@dataclass(frozen=True)
class ByteRange:
    """The answer to a (possibly ranged) read: the chunks and what they cover."""

    chunks: Iterator[bytes]
    start: int
    end: int  # inclusive
    total: int


class Storage(Protocol):
    kind: Literal["local", "s3"]

    def put_file(self, key: str, path: Path) -> bool:
        """Make `path`'s (fsynced) content the object `key`, unless `key` exists: then the
        stored object stays as it is. True when this call stored it. `path` stays the caller's."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write a small derived object (a thumbnail), replacing an older one."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None:
        """The object's size, None when it does not exist."""
        ...

    def read_range(self, key: str, start: int, end: int | None) -> ByteRange | None:
        """Bytes start..end (inclusive; None: to the end), streamed; None when missing.
        Raises ValueError for a range that starts past the end."""
        ...

    def local_path(self, key: str) -> Path | None:
        """Where the object lives on this host's disk (it may be missing); None for a remote
        store. Lets the local store's downloads go out by sendfile."""
        ...

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path | None]:
        """A local file with the object's bytes while the context lasts (None: missing)."""
        ...

    def delete(self, key: str) -> None: ...

    def list(self, folder: str) -> Iterator[ObjectInfo]:
        """Every object below `folder` ("files", "thumbs/ab"), in no particular order."""
        ...

    def presigned_url(self, key: str, filename: str | None, media_type: str) -> str | None:
        """A short-lived URL a browser may fetch the object from; None when not offered."""
        ...

    def probe(self) -> None:
        """Write, read back and remove a small object; raises StorageUnavailable."""
        ...


def attachment(filename: str) -> str:
    """Content-Disposition for a download: an ASCII fallback plus the RFC 5987 UTF-8 name."""
    fallback = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(filename)}"
