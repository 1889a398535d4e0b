"""Search, filters, sorting and facets over the library.

Everything here is portable SQL except the full-text part, `q`: on SQLite it matches the
FTS5 table files_fts, on PostgreSQL the tsvector table files_fts (both made by migration
0005, with the same words per file). One search text becomes an FTS5 expression or a
tsquery that ask for the same thing. Trashed files are never listed.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, partial
from typing import Any, TypeVar, cast

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine

from printstash.core.errors import Invalid
from printstash.core.models import AppState
from printstash.library.models import File, Tag, file_tags
from printstash.library.search_schemas import Facets, FacetValue
from printstash.library.tags import tag_key

SORT_KEYS = ("relevance", "name", "uploaded_at", "size", "estimated_time", "filament_total",
             "last_printed")
QUERY_MAX_PHRASES = 16
FLOAT_TOLERANCE = 1e-6  # nozzle 0.4 parsed as 0.4000000001 is still the 0.4 nozzle

# letters and digits: the runs the unicode61 tokenizer keeps (everything else separates)
_WORD = re.compile(r"[^\W_]+")
_FTS = table("files_fts", column("rowid"), column("rank"))
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class FileQuery:
    """What GET /files and /files/facets accept. Lists are alternatives (OR); different
    fields all have to hold (AND)."""

    q: str | None = None
    kind: Sequence[str] = ()
    slicer: Sequence[str] = ()
    filament_type: Sequence[str] = ()
    nozzle_diameter: Sequence[float] = ()
    printer_model: Sequence[str] = ()
    tag: Sequence[str] = ()
    layer_height_min: float | None = None
    layer_height_max: float | None = None
    estimated_time_min: float | None = None
    estimated_time_max: float | None = None
    uploaded_after: datetime | None = None
    uploaded_before: datetime | None = None
    printed: bool | None = None
    has_thumbnail: bool | None = None
    favourite: bool | None = None
    sort: str | None = None
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        _check_range("layer_height", self.layer_height_min, self.layer_height_max)
        _check_range("estimated_time", self.estimated_time_min, self.estimated_time_max)
        _check_range("uploaded", self.uploaded_after, self.uploaded_before, "_after", "_before")
        parse_sort(self.sort, has_text=self.has_text)

    @property
    def has_text(self) -> bool:
        return bool(self.q and self.q.strip())

    @property
    def fts_expression(self) -> str | None:
        return fts_expression(self.q or "")

    @property
    def matches_nothing(self) -> bool:
        """Text without a letter or digit (`"`, `*`, `((`) can match no word."""
        return self.has_text and self.fts_expression is None


def _check_range(name: str, low: Any, high: Any, lo: str = "_min", hi: str = "_max") -> None:
    if low is not None and high is not None and low > high:
        raise Invalid(f"{name}{lo} must not be greater than {name}{hi}", code="invalid_range")


def _phrases(text_: str) -> list[list[str]]:
    """Each whitespace-separated chunk's words (letters and digits only), at most 16 chunks."""
    chunks = (_WORD.findall(chunk) for chunk in unicodedata.normalize("NFKC", text_).split())
    return [words for words in chunks if words][:QUERY_MAX_PHRASES]


def fts_expression(text_: str) -> str | None:
    """User text as a safe FTS5 query: each whitespace-separated chunk becomes a quoted
    phrase of its words with a prefix `*` (`ben` finds `benchy`), all chunks required.
    Quotes, `*`, `NEAR`, `OR`, parentheses and column filters are data, never syntax."""
    return " ".join('"' + " ".join(words) + '"*' for words in _phrases(text_)) or None


def tsquery_expression(text_: str) -> str | None:
    """The same query for PostgreSQL's to_tsquery: words of a chunk follow each other (<->),
    the last one as a prefix (:*), every chunk required (&). Only letters and digits reach
    it, so nothing in the text is tsquery syntax."""
    phrases = [" <-> ".join([*words[:-1], words[-1] + ":*"]) for words in _phrases(text_)]
    return " & ".join(f"({phrase})" for phrase in phrases) or None


def parse_sort(sort: str | None, *, has_text: bool) -> tuple[str, bool]:
    """(key, descending). Default: relevance when searching text, else newest first."""
    if not sort:
        return ("relevance", False) if has_text else ("uploaded_at", True)
    key, descending = (sort[1:], True) if sort.startswith("-") else (sort, False)
    if key not in SORT_KEYS:
        raise Invalid(f"unknown sort {sort!r}; use one of {', '.join(SORT_KEYS)} "
                      "(prefix '-' for descending)", code="invalid_sort")
    if key == "relevance" and not has_text:
        raise Invalid("sort=relevance needs a search text q", code="invalid_sort")
    return key, descending


# ---- conditions ------------------------------------------------------------------------------

class _Likelihood(ColumnElement[Any]):
    """A condition with a hint for SQLite's planner: likely() (true for most rows) or
    unlikely(). Without statistics SQLite treats `deleted_at IS NULL` as selective and
    drives sorted pages through the deleted_at index (255 ms instead of 1 ms at 100k
    files). Other databases get the bare condition."""

    inherit_cache = True
    # part of the statement cache key: likely(x) and unlikely(y) must not share a compile
    _traverse_internals = [("hint", InternalTraversal.dp_string),
                           ("condition", InternalTraversal.dp_clauseelement)]

    def __init__(self, hint: str, condition: ColumnElement[bool]):
        self.hint = hint
        self.condition = condition


@compiles(_Likelihood)
def _hint_plain(element: _Likelihood, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))


@compiles(_Likelihood, "sqlite")
def _hint_sqlite(element: _Likelihood, compiler: Any, **kw: Any) -> str:
    return f"{element.hint}({compiler.process(element.condition, **kw)})"


def _live() -> ColumnElement[bool]:
    return _Likelihood("likely", File.deleted_at.is_(None))


def _trashed() -> ColumnElement[bool]:
    return _Likelihood("unlikely", File.deleted_at.is_not(None))


class _TextMatch(ColumnElement[bool]):
    """`files.id IN (the files whose words match q)`, in each database's own full-text SQL.
    Both forms of the query are bound; each database's statement uses its own."""

    inherit_cache = True
    # No Boolean type: SQLite (no native booleans) would compare the whole IN to 1, which
    # stops its planner from driving the query from the matching ids (22 ms instead of 3 ms
    # for a count at 100k files, measured with bench/search/bench_search.py's vault).
    type = cast("TypeEngine[bool]", NullType())
    _traverse_internals = [("fts", InternalTraversal.dp_clauseelement),
                           ("tsquery", InternalTraversal.dp_clauseelement)]

    def __init__(self, text_: str):
        self.fts: BindParameter[str | None] = bindparam("fts_query", fts_expression(text_))
        self.tsquery: BindParameter[str | None] = bindparam("ts_query", tsquery_expression(text_))


_PG_FTS = table("files_fts", column("id"), column("document"))


def _tsquery(query: Any) -> ColumnElement[Any]:
    return func.to_tsquery(literal_column("'simple'"), func.unaccent(query))


@compiles(_TextMatch, "sqlite")
def _text_match_sqlite(element: _TextMatch, compiler: Any, **kw: Any) -> str:
    matching = select(_FTS.c.rowid).where(literal_column("files_fts").op("MATCH")(element.fts))
    return str(compiler.process(File.id.in_(matching), **kw))


@compiles(_TextMatch, "postgresql")
def _text_match_postgresql(element: _TextMatch, compiler: Any, **kw: Any) -> str:
    matching = select(_PG_FTS.c.id).where(_PG_FTS.c.document.bool_op("@@")(_tsquery(element.tsquery)))
    return str(compiler.process(File.id.in_(matching), **kw))


def _ranked_matches(text_: str, dialect: str) -> CTE:
    """(file_id, rank) of the matching files, best rank lowest."""
    if dialect == "postgresql":
        tsquery = _tsquery(bindparam("ts_query", tsquery_expression(text_)))
        ranked = select(_PG_FTS.c.id.label("file_id"), (-func.ts_rank(_PG_FTS.c.document, tsquery)).label("rank"))
        return ranked.where(_PG_FTS.c.document.bool_op("@@")(tsquery)).cte("fts")
    # Materialized: the MATCH runs once. Joined unmaterialized, SQLite may scan files by a
    # filter's index and re-run the MATCH for each row (2.4 s at 100k files).
    ranked = select(_FTS.c.rowid.label("file_id"), _FTS.c.rank.label("rank"))
    ranked = ranked.where(text("files_fts MATCH :fts_query").bindparams(fts_query=fts_expression(text_)))
    return ranked.cte("fts").prefix_with("MATERIALIZED", dialect="sqlite")


def _near(col: Any, values: Sequence[float]) -> ColumnElement[bool]:
    return or_(*(col.between(v - FLOAT_TOLERANCE, v + FLOAT_TOLERANCE) for v in values))


def _tagged(names: Sequence[str]) -> ColumnElement[bool]:
    keys = {tag_key(name) for name in names}
    tagged = select(file_tags.c.file_id).join(Tag, Tag.id == file_tags.c.tag_id).where(Tag.name_key.in_(keys))
    return File.id.in_(tagged)


def _flag(condition: ColumnElement[bool], wanted: bool | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    return [condition if wanted else ~condition]


def _bounds(col: Any, low: Any, high: Any) -> list[ColumnElement[bool]]:
    return ([col >= low] if low is not None else []) + ([col <= high] if high is not None else [])


def conditions(query: FileQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses: trash excluded, every filter, and `q` as an id set from files_fts
    (evaluated once, then a lookup per candidate row)."""
    where: list[ColumnElement[bool]] = [_live()]
    if query.fts_expression is not None:
        where.append(_TextMatch(query.q or ""))
    for col, values in ((File.kind, query.kind), (File.slicer, query.slicer), (File.filament_type, query.filament_type),
                        (File.printer_model, query.printer_model)):
        if values:
            where.append(col.in_(values))
    if query.nozzle_diameter:
        where.append(_near(File.nozzle_diameter, query.nozzle_diameter))
    if query.tag:
        where.append(_tagged(query.tag))
    where += _bounds(File.layer_height, query.layer_height_min, query.layer_height_max)
    where += _bounds(File.estimated_time, query.estimated_time_min, query.estimated_time_max)
    where += _bounds(File.uploaded_at, query.uploaded_after, query.uploaded_before)
    where += _flag(File.print_count > 0, query.printed)
    where += _flag(File.thumbnail_count > 0, query.has_thumbnail)
    where += _flag(File.favourite.is_(True), query.favourite)
    return where


def _filtered(stmt: S, query: FileQuery) -> S:
    return stmt.where(*conditions(query))


# ---- list ------------------------------------------------------------------------------------

SORT_COLUMNS: dict[str, Any] = {
    "name": File.name, "uploaded_at": File.uploaded_at, "size": File.size,
    "estimated_time": File.estimated_time, "filament_total": File.filament_total,
    "last_printed": File.last_printed_at,
}
NULLABLE_SORTS = ("estimated_time", "filament_total", "last_printed")


INDEXED_SORTS = ("name", "uploaded_at", "estimated_time", "filament_total", "last_printed")


def _walk_sort_index(session: Session, query: FileQuery, key: str, total: int) -> bool:
    """Whether reading the sort key's index in order (stopping after offset+limit hits)
    beats collecting every match and sorting. Walking visits about (offset+limit) x
    files/matches rows, so it wins for broad filters; SQLite without statistics cannot
    tell and picks a filter's index: 200 ms instead of 1 ms for 30k of 100k files."""
    if key not in INDEXED_SORTS or query.has_text or len(conditions(query)) == 1:
        return False
    files = session.scalar(select(func.max(File.id))) or 0
    return total * total > (query.offset + query.limit) * files


def _page(query: FileQuery, dialect: str, *, walk_sort_index: bool = False) -> Select[Any]:
    key, descending = parse_sort(query.sort, has_text=query.has_text)
    where = conditions(query)
    if key == "relevance":
        # the join with the ranked matches below already keeps only matching files: the id set
        # would run the full-text MATCH a second time (3 ms of 7 at 100k files)
        where = [condition for condition in where if not isinstance(condition, _TextMatch)]
    if walk_sort_index:
        where = [_Likelihood("likely", condition) for condition in where]
    stmt = select(File).where(*where)
    column_: Any = SORT_COLUMNS.get(key)
    if key == "relevance":
        fts = _ranked_matches(query.q or "", dialect)
        stmt, column_ = stmt.join(fts, fts.c.file_id == File.id), fts.c.rank
    primary = column_.desc() if descending else column_.asc()
    if key in NULLABLE_SORTS:
        primary = primary.nulls_last()  # unknown values at the end in both directions
    # id as the last key makes the order total, so pages never repeat or skip a file
    return stmt.order_by(primary, File.id.desc() if descending else File.id.asc())


def search_files(session: Session, query: FileQuery) -> tuple[list[File], int]:
    """One page of matching files (tags and thumbnails loaded in two extra queries in
    total, not per file) and the number of matches."""
    if query.matches_nothing:
        return [], 0
    total = session.scalar(_filtered(select(func.count()).select_from(File), query)) or 0
    if total <= query.offset:
        return [], total
    walk = _walk_sort_index(session, query, parse_sort(query.sort, has_text=query.has_text)[0], total)
    stmt = (_page(query, session.get_bind().dialect.name, walk_sort_index=walk).limit(query.limit).offset(query.offset)
            .options(selectinload(File.tags), selectinload(File.thumbnails), selectinload(File.plates)))
    return list(session.scalars(stmt)), total


# ---- facets ----------------------------------------------------------------------------------

_FACET_FILTERS = {"kind": "kind", "slicer": "slicer", "filament_type": "filament_type",
                  "nozzle_diameter": "nozzle_diameter", "printer_model": "printer_model",
                  "tags": "tag"}


def _unfiltered(query: FileQuery) -> bool:
    return len(conditions(query)) == 1  # only "not in the trash"


def _counts(session: Session, stmt: Select[*tuple[Any, ...]]) -> dict[Any, int]:
    return {value: count for value, count in session.execute(stmt)}


def _minus(everything: dict[Any, int], trashed: Mapping[Any, int]) -> list[tuple[Any, int]]:
    return [(v, n - trashed.get(v, 0)) for v, n in everything.items() if n > trashed.get(v, 0)]


FACET_COLUMNS = ("kind", "slicer", "filament_type", "nozzle_diameter", "printer_model")


def _trash_counts(session: Session) -> dict[str, Counter[Any]]:
    """Per facet column (and per tag id), how many trashed files have each value. No GROUP
    BY: SQLite would then walk a whole column index to save a sort of a few rows."""
    columns = [getattr(File, name) for name in FACET_COLUMNS]
    rows = session.execute(select(*columns).where(_trashed())).all()
    counts = {name: Counter(row[i] for row in rows) for i, name in enumerate(FACET_COLUMNS)}
    tagged = select(file_tags.c.tag_id).select_from(File).join(file_tags, file_tags.c.file_id == File.id)
    counts["tags"] = Counter(session.scalars(tagged.where(_trashed())))
    return counts


def _column_facet(session: Session, query: FileQuery, name: str,
                  trash: Callable[[], dict[str, Counter[Any]]]) -> list[FacetValue]:
    col = getattr(File, name)
    without_own: dict[str, Any] = {_FACET_FILTERS[name]: ()}
    own_filter_off = replace(query, **without_own)
    grouped = select(col, func.count()).select_from(File).group_by(col)
    if _unfiltered(own_filter_off):
        # Whole library: count the column's own index (no table reads), then take away
        # the few files in the trash. 10x faster than reading every live row at 100k.
        rows = _minus(_counts(session, grouped), trash()[name])
    else:
        rows = list(_counts(session, _filtered(grouped, own_filter_off)).items())
    return _ranked([(value, count) for value, count in rows if value is not None and value != ""])


def _tag_facet(session: Session, query: FileQuery, trash: Callable[[], dict[str, Counter[Any]]]) -> list[FacetValue]:
    own_filter_off = replace(query, tag=())
    grouped = select(file_tags.c.tag_id, func.count()).group_by(file_tags.c.tag_id)
    if _unfiltered(own_filter_off):
        rows = _minus(_counts(session, grouped), trash()["tags"])
    else:
        live = _filtered(grouped.join(File, File.id == file_tags.c.file_id), own_filter_off)
        rows = list(_counts(session, live).items())
    names = _counts(session, select(Tag.id, Tag.name))  # all tags: no id list to overflow
    return _ranked([(names[tag_id], count) for tag_id, count in rows if tag_id in names])


def _ranked(rows: list[tuple[Any, int]]) -> list[FacetValue]:
    rows.sort(key=lambda row: (-row[1], str(row[0]).casefold()))
    return [FacetValue(value=value, count=count) for value, count in rows]


# Whole-library facets are the sidebar of every library page and cost five index scans
# (25 ms at 100k files): keep them per database until the library changes. Triggers
# (migration 0007) bump app_state["library_version"] on every change to files and tags.
_WHOLE_LIBRARY: dict[str, tuple[int, Facets]] = {}
LIBRARY_VERSION = "library_version"


def facets(session: Session, query: FileQuery) -> Facets:
    if query.matches_nothing or not _unfiltered(query):
        return _facets(session, query)
    # Read in the same transaction (one snapshot) as the counts, so a result is never cached
    # under a newer version than the data it was computed from.
    version = session.scalar(select(AppState.value).where(AppState.key == LIBRARY_VERSION))
    key = str(session.get_bind().engine.url)
    cached = _WHOLE_LIBRARY.get(key)
    if version is not None and cached is not None and cached[0] == int(version):
        return cached[1]
    result = _facets(session, query)
    if version is not None:
        _WHOLE_LIBRARY[key] = (int(version), result)
    return result


def _facets(session: Session, query: FileQuery) -> Facets:
    if query.matches_nothing:
        return Facets(total=0, kind=[], slicer=[], filament_type=[], nozzle_diameter=[], printer_model=[], tags=[])
    trash = cache(partial(_trash_counts, session))
    return Facets(
        total=session.scalar(_filtered(select(func.count()).select_from(File), query)) or 0,
        tags=_tag_facet(session, query, trash),
        **{name: _column_facet(session, query, name, trash) for name in FACET_COLUMNS},
    )
