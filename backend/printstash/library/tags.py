"""Tags and favourites: plain functions taking the session first; they never commit.

file_tags rows are written with plain INSERT/DELETE so the FTS triggers (migration 0005)
see every change (never INSERT OR REPLACE: it deletes without firing them; ON CONFLICT DO
NOTHING is fine).
Tag names are unique case-insensitively by their stored key tags.name_key (ASCII letters
lowered, as SQLite's NOCASE did before 0009). Creating is "insert unless the key exists",
then read back, so two requests racing to create PETG and petg get the same one tag.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from printstash.core.db import insert_missing, utcnow
from printstash.core.errors import Conflict, Invalid, NotFound
from printstash.library.models import File, Tag, file_tags
from printstash.library.search_schemas import TagRead

TAG_MAX_CHARS = 64
_SPACES = re.compile(r"\s+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def clean_tag_name(raw: str) -> str:
    """One line of visible text, spaces collapsed, 1-64 characters."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise Invalid("a tag name must contain visible characters", code="invalid_tag")
    if len(text) > TAG_MAX_CHARS:
        raise Invalid(f"a tag name has at most {TAG_MAX_CHARS} characters", code="invalid_tag")
    return text


def tag_key(name: str) -> str:
    """tags.name_key: NOCASE's equality, so SQLite vaults migrated by 0009 have no duplicate keys."""
    return name.translate(_ASCII_LOWER)


def _unique_names(raw_names: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for raw in raw_names:
        name = clean_tag_name(raw)
        seen.setdefault(tag_key(name), name)
    return list(seen.values())


# ---- tags ------------------------------------------------------------------------------------

def find_tags(session: Session, names: Sequence[str]) -> list[Tag]:
    if not names:
        return []
    return list(session.scalars(select(Tag).where(Tag.name_key.in_({tag_key(name) for name in names}))))


def get_or_create_tags(session: Session, raw_names: Iterable[str]) -> list[Tag]:
    names = _unique_names(raw_names)
    existing = {tag.name_key for tag in find_tags(session, names)}
    now = utcnow()
    insert_missing(session, Tag, [{"name": name, "name_key": tag_key(name), "created_at": now}
                                  for name in names if tag_key(name) not in existing])
    return find_tags(session, names)


def get_tag(session: Session, tag_id: int) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound(f"tag {tag_id} not found", code="tag_not_found")
    return tag


def list_tags(session: Session) -> list[TagRead]:
    """Every tag with the number of files (not in the trash) carrying it, by name."""
    live = select(file_tags.c.tag_id, func.count().label("n")).join(File, File.id == file_tags.c.file_id)
    counts = live.where(File.deleted_at.is_(None)).group_by(file_tags.c.tag_id).subquery()
    rows = session.execute(select(Tag, func.coalesce(counts.c.n, 0))
                           .outerjoin(counts, counts.c.tag_id == Tag.id).order_by(Tag.name, Tag.id))
    return [TagRead(id=tag.id, name=tag.name, file_count=n) for tag, n in rows]


def tag_read(session: Session, tag: Tag) -> TagRead:
    count = session.scalar(select(func.count()).select_from(file_tags)
                           .join(File, File.id == file_tags.c.file_id)
                           .where(file_tags.c.tag_id == tag.id, File.deleted_at.is_(None)))
    return TagRead(id=tag.id, name=tag.name, file_count=count or 0)


def create_tag(session: Session, raw_name: str) -> tuple[Tag, bool]:
    """The tag with this name, and whether it was created now."""
    name = clean_tag_name(raw_name)
    found = find_tags(session, [name])
    if found:
        return found[0], False
    created = insert_missing(session, Tag, [{"name": name, "name_key": tag_key(name), "created_at": utcnow()}])
    return find_tags(session, [name])[0], created == 1


def rename_tag(session: Session, tag_id: int, raw_name: str) -> Tag:
    tag = get_tag(session, tag_id)
    name = clean_tag_name(raw_name)
    clash = [other for other in find_tags(session, [name]) if other.id != tag.id]
    if clash:
        raise Conflict(f"a tag named {clash[0].name!r} already exists", code="tag_exists")
    try:
        with session.begin_nested():  # a tag of that name created meanwhile by someone else
            tag.name, tag.name_key = name, tag_key(name)
    except IntegrityError:
        raise Conflict(f"a tag named {name!r} already exists", code="tag_exists") from None
    return tag


def delete_tag(session: Session, tag_id: int) -> None:
    session.delete(get_tag(session, tag_id))
    session.flush()


# ---- tagging files ---------------------------------------------------------------------------

def live_files(session: Session, file_ids: Sequence[int]) -> list[File]:
    """The files with these ids, or NotFound naming the missing (or trashed) ones."""
    wanted = sorted(set(file_ids))
    rows = list(session.scalars(select(File).where(File.id.in_(wanted), File.deleted_at.is_(None))))
    missing = sorted(set(wanted) - {row.id for row in rows})
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
        raise NotFound(f"files not found: {shown}", code="file_not_found")
    return rows


def _pairs(session: Session, file_ids: Sequence[int], tag_ids: Sequence[int]) -> set[tuple[int, int]]:
    if not file_ids or not tag_ids:
        return set()
    rows = session.execute(select(file_tags.c.file_id, file_tags.c.tag_id).where(
        file_tags.c.file_id.in_(file_ids), file_tags.c.tag_id.in_(tag_ids)))
    return {(f, t) for f, t in rows}


def add_tags(session: Session, files: Sequence[File], raw_names: Iterable[str]) -> int:
    """Tag every file with every name; returns how many (file, tag) pairs were new."""
    tags = get_or_create_tags(session, raw_names)
    file_ids, tag_ids = [f.id for f in files], [t.id for t in tags]
    have = _pairs(session, file_ids, tag_ids)
    new = [{"file_id": f, "tag_id": t} for f in file_ids for t in tag_ids if (f, t) not in have]
    added = insert_missing(session, file_tags, new)  # a pair tagged meanwhile is not an error
    _expire_tags(session, files)
    return added


def remove_tags(session: Session, files: Sequence[File], raw_names: Iterable[str]) -> int:
    """Untag; names that are no tag (or not on a file) are ignored. Returns pairs removed."""
    tags = find_tags(session, _unique_names(raw_names))
    have = _pairs(session, [f.id for f in files], [t.id for t in tags])
    for tag in tags:  # one statement per tag keeps the id list under SQLite's variable cap
        tagged = sorted(f for f, t in have if t == tag.id)
        if tagged:
            session.execute(delete(file_tags).where(file_tags.c.tag_id == tag.id,
                                                    file_tags.c.file_id.in_(tagged)))
    _expire_tags(session, files)
    return len(have)


def set_tags(session: Session, file: File, raw_names: Iterable[str]) -> None:
    """Make the file's tags exactly these names."""
    names = _unique_names(raw_names)
    keep = {tag_key(n) for n in names}
    drop = [tag.name for tag in file.tags if tag_key(tag.name) not in keep]
    remove_tags(session, [file], drop)
    add_tags(session, [file], names)


def untag_file(session: Session, file: File, raw_name: str) -> None:
    if remove_tags(session, [file], [raw_name]) == 0:
        raise NotFound(f"file {file.id} has no tag {raw_name!r}", code="tag_not_found")


def _expire_tags(session: Session, files: Sequence[File]) -> None:
    # The rows changed behind the ORM's back: reload File.tags on next access.
    session.flush()
    for file in files:
        session.expire(file, ["tags"])


# ---- favourites ------------------------------------------------------------------------------

def set_favourite(session: Session, file: File, favourite: bool) -> File:
    file.favourite = favourite
    session.flush()
    return file
