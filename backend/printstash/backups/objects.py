"""Backups of a vault whose files live in a bucket (VAULT_STORAGE=s3): the objects its rows
reference, and how verify and restore compare them with the bucket.

The bucket's keys are the data dir's paths (files/ab/<sha256>, thumbs/<path>; core/storage.py),
so an archive made `--with-objects` holds them as ordinary members, and one made without lists
them as object lines (backups/manifest.py) that must still be in the bucket when it is restored.
"""

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from printstash.backups.archive import ObjectRef
from printstash.core.objects import Storage
from printstash.core.storage import FILES

SHOWN = 20  # problems named one by one; the rest are counted


class MissingContent(Exception):
    """The snapshot references a stored file or thumbnail that the listing does not hold."""


# A plate's layer index is derived data built at upload or on the first preview: one not built
# yet is not missing (the api builds it again from the file after a restore).
LAYER_INDEX = "layer index"


def object_refs(storage: Storage, referenced: Iterable[tuple[str, str]]) -> Iterator[ObjectRef]:
    """Each referenced object as the bucket holds it now: its size (HEAD) and SHA-256 (a stored
    file's key names it and the archive copy checks it; a thumbnail is small: read and hashed)."""
    for kind, key in referenced:
        size = storage.size(key)
        if size is None and kind == LAYER_INDEX:
            continue
        if size is None:
            raise MissingContent(f"the database references {kind} {key}, which is missing from the bucket")
        sha = key.rsplit("/", 1)[-1] if key.startswith(f"{FILES}/") else hash_object(storage, key)
        if sha is None:
            raise MissingContent(f"{kind} {key} vanished from the bucket while it was read")
        yield ObjectRef(key, size, sha)


def chunks(storage: Storage, key: str) -> Iterator[bytes]:
    """The object's bytes, streamed (FileNotFoundError: it is gone)."""
    try:
        body = storage.read_range(key, 0, None)
    except ValueError:  # an empty object: nothing to read
        return
    if body is None:
        raise FileNotFoundError(key)
    yield from body.chunks


def hash_object(storage: Storage, key: str) -> str | None:
    """SHA-256 of the object's bytes as the bucket serves them; None when it is missing."""
    digest = hashlib.sha256()
    try:
        for chunk in chunks(storage, key):
            digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


@dataclass
class ObjectCheck:
    """Compares the objects an archive lists with the bucket: HEAD (exists, size), and with
    `deep` the SHA-256 of the bytes. Names the first few problems, counts the rest."""

    storage: Storage | None  # None: this vault keeps its files in the data dir, not a bucket
    deep: bool = False
    checked: int = 0
    problems: int = 0
    shown: list[str] = field(default_factory=list)

    def check(self, ref: ObjectRef) -> None:
        self.checked += 1
        problem = self._problem(ref)
        if problem is not None:
            self.problems += 1
            if len(self.shown) < SHOWN:
                self.shown.append(problem)

    def _problem(self, ref: ObjectRef) -> str | None:
        if self.storage is None:
            return f"{ref.key} lives in a bucket, and this vault uses none (VAULT_STORAGE=local)"
        size = self.storage.size(ref.key)
        if size is None:
            return f"{ref.key} is missing"
        if size != ref.size:
            return f"{ref.key} has {size} bytes where the backup recorded {ref.size}"
        if self.deep:
            got = hash_object(self.storage, ref.key)
            if got != ref.sha256:
                return f"{ref.key} has different content (SHA-256 {got} where the backup recorded {ref.sha256})"
        return None

    def summary(self) -> str:
        more = self.problems - len(self.shown)
        return "; ".join(self.shown) + (f"; and {more} more" if more else "")
