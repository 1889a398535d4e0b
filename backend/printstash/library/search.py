"""Search, filters, sorting and facets over the library.

Everything here is portable SQL except the full-text part, `q`: on SQLite it matches the
FTS5 table files_fts, on PostgreSQL the tsvector table files_fts (both made by migration
0005, with the same words per file). One search text becomes an FTS5 expression or a
tsquery that ask for the same thing. Each whitespace-separated chunk of it must match:
its words as word beginnings in any searched column, or (3 letters or more) the chunk as
a substring of the name (library/substrings.py; migration 0013's trigram indexes). With
relevance, files matching every chunk by words come first. Trashed files are never listed.
"""

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast

from sqlalchemy import (
    CTE,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine

from printstash.core.db import Database
from printstash.core.errors import Invalid
from printstash.core.memo import Memo
from printstash.core.models import AppState
from printstash.library import service
from printstash.library.models import File, Plate, Tag, file_tags
from printstash.library.schemas import FileRead
from printstash.library.search_schemas import Facets, FacetValue
from printstash.library.substrings import fragment
from printstash.library.tags import tag_key

SORT_KEYS = ("relevance", "name", "uploaded_at", "size", "estimated_time", "filament_total",
             "last_printed")
QUERY_MAX_PHRASES = 16
FLOAT_TOLERANCE = 1e-6  # nozzle 0.4 parsed as 0.4000000001 is still the 0.4 nozzle

# letters and digits: the runs the unicode61 tokenizer keeps (everything else separates)
_WORD = re.compile(r"[^\W_]+")
_FTS = table("files_fts", column("rowid"), column("rank"))
S = TypeVar("S", bound=Select[*tuple[Any, ...]])
log = logging.getLogger(__name__)


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
    # Set by `with_later_plates` or search_files, not by callers: True when no later plate
    # passes the plate filters, so the statements leave file_plates out.
    no_later_plate: bool = False

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

    @cached_property
    def text_parts(self) -> "list[_TextPart]":
        return _text_parts(self.q or "") if self.fts_expression is not None else []

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """Every value the statements bind, by the name they bind it under (`_parameters`)."""
        return _parameters(self)


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
    return _fts_of(_phrases(text_))


def _fts_of(phrases: Sequence[Sequence[str]]) -> str | None:
    return " ".join('"' + " ".join(words) + '"*' for words in phrases) or None


def tsquery_expression(text_: str) -> str | None:
    """The same query for PostgreSQL's to_tsquery: words of a chunk follow each other (<->),
    the last one as a prefix (:*), every chunk required (&). Only letters and digits reach
    it, so nothing in the text is tsquery syntax."""
    return _tsquery_of(_phrases(text_))


# Letters that PostgreSQL's unaccent() turns into punctuation: the Spacing Modifier Letters
# (U+02BC modifier apostrophe -> ', U+02D0 triangular colon -> :, …; the rest of unaccent's rules
# give letters and digits after NFKC). In the index they separate words; left in a tsquery they
# would be its syntax (U+0149, NFKC U+02BC n: "syntax error in tsquery"), so they separate there.
_UNACCENT_PUNCTUATION = re.compile(r"[\u02b0-\u02ff]+")


def _tsquery_of(phrases: Sequence[Sequence[str]]) -> str | None:
    phrases = [split for words in phrases
               if (split := [piece for word in words for piece in _UNACCENT_PUNCTUATION.split(word) if piece])]
    ordered = [" <-> ".join([*words[:-1], words[-1] + ":*"]) for words in phrases]
    return " & ".join(f"({phrase})" for phrase in ordered) or None


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
    # grouped as a term of an AND: a hinted OR must keep its parentheses there
    return str(compiler.process(element.condition.self_group(against=operators.and_), **kw))


@compiles(_Likelihood, "sqlite")
def _hint_sqlite(element: _Likelihood, compiler: Any, **kw: Any) -> str:
    return f"{element.hint}({compiler.process(element.condition, **kw)})"


# One element, so that PostgreSQL's text searches can tell it from the other conditions: their
# matches are live files already (`_postgresql_words`), so they leave it out (`_matches_first`).
_LIVE = _Likelihood("likely", File.deleted_at.is_(None))


def _live() -> ColumnElement[bool]:
    return _LIVE


def _trashed() -> ColumnElement[bool]:
    return _Likelihood("unlikely", File.deleted_at.is_not(None))


class _WordMatch(ColumnElement[bool]):
    """`files.id IN (the files whose words match all these chunks)`, in each database's own
    full-text SQL. Both forms of the query are bound; each database's statement uses its own."""

    inherit_cache = True
    # No Boolean type: SQLite (no native booleans) would compare the whole IN to 1, which
    # stops its planner from driving the query from the matching ids (22 ms instead of 3 ms
    # for a count at 100k files, measured with bench/search/bench_search.py's vault).
    type = cast("TypeEngine[bool]", NullType())
    _traverse_internals = [("fts", InternalTraversal.dp_clauseelement),
                           ("tsquery", InternalTraversal.dp_clauseelement)]

    def __init__(self, part: "_TextPart"):
        self.fts: BindParameter[str | None] = bindparam(f"{part.name}_fts", part.fts)
        self.tsquery: BindParameter[str | None] = bindparam(f"{part.name}_ts", part.tsquery)


class _WordOrNameMatch(_WordMatch):
    """One chunk: its words match (as _WordMatch), or the name contains it. A class of its
    own, not a flag: the statement cache keys on the structure, not on bound values."""

    inherit_cache = True
    _traverse_internals = [*_WordMatch._traverse_internals,
                           ("phrase", InternalTraversal.dp_clauseelement),
                           ("pattern", InternalTraversal.dp_clauseelement)]

    def __init__(self, part: "_TextPart"):
        super().__init__(part)
        self.phrase: BindParameter[str | None] = bindparam(f"{part.name}_phrase", part.phrase)
        self.pattern: BindParameter[str | None] = bindparam(f"{part.name}_pattern", part.pattern)


_PG_FTS = table("files_fts", column("id"), column("document"), column("live", Boolean))
_NAMES = table("files_fts_names", column("rowid"))
_NAMED = table("files", column("id"), column("name_search"), column("deleted_at")).alias("named")


def _tsquery(query: Any) -> ColumnElement[Any]:
    """The search text as a tsquery, for a WHERE: there it is the GIN index's condition, computed
    once per scan, and the planner estimates the number of matches from its value."""
    return func.to_tsquery(literal_column("'simple'"), func.unaccent(query))


def _tsquery_once(query: Any) -> ColumnElement[Any]:
    """The same as a scalar subquery, for ts_rank: computed once for the statement (an InitPlan).
    As a plain expression unaccent() (STABLE, so never folded into a constant) and to_tsquery()
    ran again for every ranked row. Not in the WHERE: a subquery's value is unknown when the
    statement is planned, so the planner would guess the matches (5,000 for 19,636 at 1M files)
    and pick a scan of every file."""
    return select(_tsquery(query)).scalar_subquery()


def _sqlite_words(element: _WordMatch) -> Select[Any]:
    return select(_FTS.c.rowid).where(literal_column("files_fts").op("MATCH")(element.fts))


def _postgresql_words(element: _WordMatch) -> Select[Any]:
    """The live files whose words match: each row says whether its file is in the trash (0018)."""
    return select(_PG_FTS.c.id).where(_PG_FTS.c.live, _PG_FTS.c.document.bool_op("@@")(_tsquery(element.tsquery)))


# One id set per chunk (a UNION), looked up once: an OR of the two lookups per row would
# read every file instead of the two indexes.
def _postgresql_ids(element: _WordMatch, words: Select[Any] | None = None) -> Select[Any] | CompoundSelect[Any]:
    """The ids of the live files the text condition lets in, on PostgreSQL; `words`: its word
    matches when the statement has them already."""
    words = words if words is not None else _postgresql_words(element)
    if not isinstance(element, _WordOrNameMatch):
        return words
    named = select(_NAMED.c.id).where(_NAMED.c.name_search.like(element.pattern), _NAMED.c.deleted_at.is_(None))
    return words.union(named)


@compiles(_WordMatch, "sqlite")
def _word_match_sqlite(element: _WordMatch, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(File.id.in_(_sqlite_words(element)), **kw))


@compiles(_WordMatch, "postgresql")
@compiles(_WordOrNameMatch, "postgresql")
def _word_match_postgresql(element: _WordMatch, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(File.id.in_(_postgresql_ids(element)), **kw))


@compiles(_WordOrNameMatch, "sqlite")
def _word_or_name_sqlite(element: _WordOrNameMatch, compiler: Any, **kw: Any) -> str:
    names = select(_NAMES.c.rowid).where(literal_column("files_fts_names").op("MATCH")(element.phrase))
    return str(compiler.process(File.id.in_(_sqlite_words(element).union(names)), **kw))


@dataclass(frozen=True)
class _TextPart:
    """One condition of a search text, and the values it binds under names starting with `name`:
    chunks too short for a substring look up words only, all in one full-text query ("words");
    each longer chunk is its own condition, its words or its fragment in names ("chunk0", …)."""

    name: str
    fts: str | None
    tsquery: str | None
    fragment: str | None = None

    @property
    def phrase(self) -> str | None:  # the fragment holds only letters, digits and single spaces:
        return f'"{self.fragment}"' if self.fragment else None  # no quote, % or _ in it

    @property
    def pattern(self) -> str | None:
        return f"%{self.fragment}%" if self.fragment else None

    def parameters(self) -> dict[str, str | None]:
        return {f"{self.name}_fts": self.fts, f"{self.name}_ts": self.tsquery} | (
            {f"{self.name}_phrase": self.phrase, f"{self.name}_pattern": self.pattern} if self.fragment else {})


def _text_parts(text_: str) -> list[_TextPart]:
    phrases = [(words, fragment(words)) for words in _phrases(text_)]
    short = [words for words, found in phrases if found is None]
    parts = [_TextPart("words", _fts_of(short), _tsquery_of(short))] if short else []
    longs = [(words, found) for words, found in phrases if found is not None]
    return parts + [_TextPart(f"chunk{i}", _fts_of([words]), _tsquery_of([words]), found)
                    for i, (words, found) in enumerate(longs)]


def _text_matches(query: FileQuery) -> list[ColumnElement[bool]]:
    return [_WordOrNameMatch(part) if part.fragment else _WordMatch(part) for part in query.text_parts]


def _ranked_matches(query: FileQuery, dialect: str) -> CTE:
    """(file_id, rank) of the matching files, best rank lowest. Materialized: the full-text
    match runs once. Joined unmaterialized, SQLite may scan files by a filter's index and re-run
    the MATCH for each row (2.4 s at 100k files), and PostgreSQL looks each file's tsvector up
    by its key to check and rank it (3 buffer reads per match instead of one bitmap scan; with
    the tsquery computed per row, 37 ms instead of 8 for the page of `q=bracket` at 100k files)."""
    if dialect == "postgresql":
        tsquery: BindParameter[str | None] = bindparam("rank_ts", query.parameters["rank_ts"])
        rank = -func.ts_rank(_PG_FTS.c.document, _tsquery_once(tsquery))
        ranked = select(_PG_FTS.c.id.label("file_id"), rank.label("rank"))
        ranked = ranked.where(_PG_FTS.c.live, _PG_FTS.c.document.bool_op("@@")(_tsquery(tsquery)))
    else:
        ranked = select(_FTS.c.rowid.label("file_id"), _FTS.c.rank.label("rank"))
        ranked = ranked.where(text("files_fts MATCH :rank_fts").bindparams(rank_fts=query.parameters["rank_fts"]))
    return ranked.cte("fts").prefix_with("MATERIALIZED")


def _bound(query: FileQuery, name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
    """The query's parameter `name` (a list: an expanding one, for IN)."""
    value = query.parameters[name]
    return bindparam(name, value, type_=type_, expanding=isinstance(value, list))


def _near(query: FileQuery, col: Any) -> ColumnElement[bool]:
    return or_(*(col.between(_bound(query, f"nozzle{i}_low", col.type), _bound(query, f"nozzle{i}_high", col.type))
                 for i in range(len(query.nozzle_diameter))))


def _tagged(query: FileQuery) -> ColumnElement[bool]:
    tagged = (select(file_tags.c.file_id).join(Tag, Tag.id == file_tags.c.tag_id)
              .where(Tag.name_key.in_(_bound(query, "tag_keys", Tag.name_key.type))))
    return File.id.in_(tagged)


def _flag(condition: ColumnElement[bool], wanted: bool | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    return [condition if wanted else ~condition]


def _bounds(query: FileQuery, col: Any, low: str, high: str) -> list[ColumnElement[bool]]:
    """`low <= col <= high` for the bounds the query gives (its fields `low` and `high`)."""
    return ([col >= _bound(query, low, col.type)] if getattr(query, low) is not None else []) + (
        [col <= _bound(query, high, col.type)] if getattr(query, high) is not None else [])


def conditions(query: FileQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses: trash excluded, every filter, and `q` as an id set from files_fts
    (evaluated once, then a lookup per candidate row). A file passes the plate filters when
    one of its plates passes them all."""
    return _file_conditions(query) + _any_plate(query)


def _first_plate_conditions(query: FileQuery) -> list[ColumnElement[bool]]:
    """As `conditions`, with plate 1 (the file's own columns) the only plate looked at."""
    return _file_conditions(query) + _plate_filters(query, File)


def _plate_filters(query: FileQuery, plate: type[File] | type[Plate]) -> list[ColumnElement[bool]]:
    """The filters on what a plate says (slicer, material, nozzle, …), on `plate`'s columns:
    File's are plate 1's, Plate's any plate's."""
    where = [getattr(plate, name).in_(_bound(query, name, getattr(plate, name).type))
             for name in ("slicer", "filament_type", "printer_model") if getattr(query, name)]
    if query.nozzle_diameter:
        where.append(_near(query, plate.nozzle_diameter))
    where += _bounds(query, plate.layer_height, "layer_height_min", "layer_height_max")
    return where + _bounds(query, plate.estimated_time, "estimated_time_min", "estimated_time_max")


def _any_plate(query: FileQuery) -> list[ColumnElement[bool]]:
    """Plate 1 passes the plate filters, or a later plate does. Plate 1 is read from the files
    row (its filter index) and only the few later plates from file_plates, so single-plate
    libraries search as fast as before plates existed."""
    first = _plate_filters(query, File)
    if not first:
        return []
    if query.no_later_plate:
        return first  # the files row alone, as fast as it ever was
    # `files.id + 0`: no index for that side of the OR, so SQLite does not answer it as a
    # MULTI-INDEX OR (every plate-1 match gathered in a set, then the page sorted in a temp
    # b-tree: 91 ms at 100k files) but reads the filter's or the sort key's index and looks
    # each row up in the later plates' id set (bench/search/bench_search.py)
    return [or_(and_(*first), (File.id + _ZERO).in_(_later_plates(query)))]


def _later_plates(query: FileQuery) -> Select[Any]:
    return select(Plate.file_id).where(LATER_PLATE, *_plate_filters(query, Plate)).distinct()


# Literally the partial index's condition (a bound 1 would not let the planner use it).
LATER_PLATE = literal_column('"index"') > literal_column("1")
# constants are SQL, not parameters: a statement kept for its shape binds only the query's values
_ZERO: ColumnElement[int] = literal_column("0")
_ONE: ColumnElement[int] = literal_column("1")
LATER_PLATES_INLINE = 5000  # file ids per IN list where the facets correct their counts


def with_later_plates(session: Session, query: FileQuery) -> FileQuery:
    """A text search's query marked when no later plate passes its plate filters (most libraries
    and most filters), so its statements are the plain ones (without text, `_counted` tells in
    the count's own statement). When some do, the statements find them in
    their own subquery, through the partial index ix_file_plates_later (library/models.py).
    Measured faster on both backends than their file ids read first and sent back as one
    parameter, which costs a round trip and Python work per id: `filter only` at 100k files
    (1,849 such ids), search_files p50 with the two forms alternating per request, SQLite 25.9
    -> 21.1 ms, PostgreSQL 35.1 -> 31.5 ms (bench/search/RESULTS.md, 2026-12-03 21:55-22:11)."""
    if not _plate_filters(query, File):
        return query
    some = _prepared(session, query, "a later plate", lambda: select(Plate.file_id).where(
        LATER_PLATE, *_plate_filters(query, Plate)).limit(_ONE).offset(_ZERO))
    return query if session.scalar(some, query.parameters) is not None else replace(query, no_later_plate=True)


def _file_conditions(query: FileQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [_live(), *_text_matches(query)]
    if query.kind:
        where.append(File.kind.in_(_bound(query, "kind", File.kind.type)))
    if query.tag:
        where.append(_tagged(query))
    where += _bounds(query, File.uploaded_at, "uploaded_after", "uploaded_before")
    where += _flag(File.print_count > _ZERO, query.printed)
    where += _flag(File.thumbnail_count > _ZERO, query.has_thumbnail)
    where += _flag(File.favourite.is_(True), query.favourite)
    return where


def _filtered(stmt: S, query: FileQuery) -> S:
    return stmt.where(*conditions(query))


# ---- statements built once per shape -----------------------------------------------------------
#
# A list's statements depend on which filters a query has, not on their values: those are bound
# parameters, named after the query's fields. So each statement is built once per shape of query
# (`_shape`) and database kind, and each request binds its own values (`FileQuery.parameters`).
# Building one took 1-2 ms of a text search on PostgreSQL (SQLAlchemy's constructs and their
# cache key), besides the few milliseconds that PostgreSQL itself spends (docs/performance.md).

# The fields whose values are bound: their shape is whether they are given, a list of nozzles its
# length (one BETWEEN each). Every other field (flags, sort) shapes the SQL by its value.
_BOUND_LISTS = ("kind", "slicer", "filament_type", "printer_model")
_BOUND_SCALARS = ("layer_height_min", "layer_height_max", "estimated_time_min", "estimated_time_max",
                  "uploaded_after", "uploaded_before", "limit", "offset")
_BOUND_FIELDS = frozenset((*_BOUND_LISTS, *_BOUND_SCALARS, "tag"))
_PREPARED: Memo[tuple[Any, ...], Any] = Memo(512)


def _parameters(query: FileQuery) -> dict[str, Any]:
    """Every value the list's statements bind, by the name they bind it under."""
    bound: dict[str, Any] = {name: list(getattr(query, name)) for name in _BOUND_LISTS}
    bound["tag_keys"] = sorted({tag_key(name) for name in query.tag})
    for i, value in enumerate(query.nozzle_diameter):
        bound[f"nozzle{i}_low"], bound[f"nozzle{i}_high"] = value - FLOAT_TOLERANCE, value + FLOAT_TOLERANCE
    bound |= {name: getattr(query, name) for name in _BOUND_SCALARS}
    for part in query.text_parts:
        bound |= part.parameters()
    bound["rank_fts"], bound["rank_ts"] = query.fts_expression, tsquery_expression(query.q or "")
    return bound


def _shape(query: FileQuery) -> tuple[Any, ...]:
    """The query without its bound values: what the statements' SQL depends on."""
    def shape(name: str, value: Any) -> Any:
        if name == "q":
            return tuple((part.name, part.fragment is not None) for part in query.text_parts)
        if name == "nozzle_diameter":
            return len(value)
        if name in _BOUND_FIELDS:
            return bool(value) if isinstance(value, list | tuple) else value is not None
        return value
    return tuple(shape(f.name, getattr(query, f.name)) for f in fields(query))


class _Unbound(Exception):
    def __init__(self, statement: Any, names: set[str]):
        super().__init__(f"values bound outside FileQuery.parameters: {sorted(names)}")
        self.statement = statement


def _prepared(session: Session, query: FileQuery, purpose: str, build: Callable[[], S]) -> S:
    """The statement for `purpose` built for the first query of this shape, to be run with
    `query.parameters`. One that binds a value those do not give (a constant, or a value put in
    without a name) would keep the first query's value for every later one: it is built again
    for each query instead, and the mistake logged."""
    dialect = session.get_bind().dialect
    try:
        return cast(S, _PREPARED.get((dialect.name, purpose, _shape(query)), lambda: None,
                                     lambda: _all_bound(build(), query, dialect)))
    except _Unbound as unbound:
        log.error("search statement %r not kept for its shape: %s", purpose, unbound)
        return cast(S, unbound.statement)


def _all_bound(statement: S, query: FileQuery, dialect: Any) -> S:
    """The statement, when each value it binds is the query's parameter of that name."""
    given = query.parameters
    stray = {name for name, value in statement.compile(dialect=dialect).params.items()
             if name not in given or given[name] != value}
    if stray:
        raise _Unbound(statement, stray)
    return statement


def _paged(statement: S, query: FileQuery) -> S:
    return statement.limit(_bound(query, "limit", Integer())).offset(_bound(query, "offset", Integer()))


# ---- list ------------------------------------------------------------------------------------

SORT_COLUMNS: dict[str, Any] = {
    "name": File.name, "uploaded_at": File.uploaded_at, "size": File.size,
    "estimated_time": File.estimated_time, "filament_total": File.filament_total,
    "last_printed": File.last_printed_at,
}
NULLABLE_SORTS = ("estimated_time", "filament_total", "last_printed")


INDEXED_SORTS = ("name", "uploaded_at", "estimated_time", "filament_total", "last_printed")


def _walk_sort_index(query: FileQuery, key: str, counted: "_Counted") -> bool:
    """Whether reading the sort key's index in order (stopping after offset+limit hits)
    beats collecting every match and sorting. Walking visits about (offset+limit) x
    files/matches rows, so it wins for broad filters; SQLite without statistics cannot
    tell and picks a filter's index: 200 ms instead of 1 ms for 30k of 100k files."""
    if key not in INDEXED_SORTS or query.has_text or _unfiltered(query):
        return False
    return counted.total * counted.total > (query.offset + query.limit) * counted.files


def _page(query: FileQuery, dialect: str, *, walk_sort_index: bool = False) -> Select[Any]:
    key, descending = parse_sort(query.sort, has_text=query.has_text)
    where = conditions(query)
    # some chunk is looked up as a substring of names: read from the same parts as the shape (`_shape`)
    substrings = key == "relevance" and any(part.fragment for part in query.text_parts)
    if key == "relevance" and not substrings:
        # the join with the ranked matches below already keeps only matching files: the id set
        # would run the full-text MATCH a second time (3 ms of 7 at 100k files)
        where = [condition for condition in where if not isinstance(condition, _WordMatch)]
    if walk_sort_index:
        where = [_Likelihood("likely", condition) for condition in where]
    fts = _ranked_matches(query, dialect) if key == "relevance" else None
    column_: Any = fts.c.rank if fts is not None else SORT_COLUMNS[key]
    if dialect == "postgresql" and query.has_text:
        stmt, id_, column_ = _page_by_matches(where, fts, substrings, column_)
    else:
        stmt, id_ = select(File.id).where(*where), File.id
        if fts is not None:
            # with fragments, files found only by a substring of the name have no word rank
            on = fts.c.file_id == File.id
            stmt = stmt.outerjoin(fts, on) if substrings else stmt.join(fts, on)
    primary = column_.desc() if descending else column_.asc()
    if key in NULLABLE_SORTS or substrings:
        primary = primary.nulls_last()  # unknown values (substring-only matches) at the end in both directions
    # id as the last key makes the order total, so pages never repeat or skip a file
    return stmt.order_by(primary, id_.desc() if descending else id_.asc())


def _page_by_matches(where: list[ColumnElement[bool]], fts: CTE | None, substrings: bool,
                     column_: Any) -> tuple[Select[Any], Any, Any]:
    """The page's statement on PostgreSQL with a search text: (statement, id, sort key)."""
    if fts is None:  # sorted by a column of the files row: read in the same lookup
        rows = _matches_first(where, sort_key=column_)
        return select(rows.c.id), rows.c.id, rows.c.sort_key
    if not substrings:  # the ranked matches are the whole text condition: they drive
        rows = _matches_first(where, fts)
        return select(rows.c.id), rows.c.id, rows.c.rank
    # one chunk: its word matches are the ranked ones, found once for both
    one_chunk = len([condition for condition in where if isinstance(condition, _WordMatch)]) == 1
    rows = _matches_first(where, words=select(fts.c.file_id.label("id")) if one_chunk else None)
    return select(rows.c.id).outerjoin(fts, fts.c.file_id == rows.c.id), rows.c.id, fts.c.rank


# PostgreSQL with a search text pages and counts from the text matches: the ids of one text
# condition (the GIN index's hits, live files only) drive, and each id's files row is looked up
# by its key and checked against every other condition, when there is one. From a plain WHERE
# PostgreSQL read every live file and joined them with the matches whenever the filters looked
# unselective, which a later plate's `OR id IN (...)` always does (guessed to keep half the
# files): 878 ms for q=bracket with two filters at 1M files (bench/search/bench_search.py).
# OFFSET 0 fences: PostgreSQL never merges a subquery with an OFFSET into the outer query, so the
# check stays one lookup per match, and the checked matches are joined with their ranks only
# after (not the ranks scanned per match).
_FENCE: ColumnElement[int] = literal_column("0")


def _matches_first(where: list[ColumnElement[bool]], fts: CTE | None = None, sort_key: Any = None,
                   words: Select[Any] | None = None) -> Subquery:
    """The text matches that pass every other condition in `where`: their `id`, with `sort_key`
    (a column of the files row) or, when the ranked matches `fts` drive, their `rank`. Without
    `fts` the first text condition in `where` drives (and is left out of the check), its word
    matches `words` when given."""
    if fts is not None:
        driver_id, ranks = fts.c.file_id, [fts.c.rank]
    else:
        text_ = next(condition for condition in where if isinstance(condition, _WordMatch))
        driver_id, ranks = _postgresql_ids(text_, words).subquery("matches").c.id, []
        where = [condition for condition in where if condition is not text_]
    # the text matches are live files already (`_postgresql_ids`)
    where = [condition for condition in where if condition is not _LIVE]
    if not where and sort_key is None:  # nothing left to look up in the files row
        return select(driver_id.label("id"), *ranks).subquery("checked_matches")
    read = [sort_key.label("sort_key")] if sort_key is not None else []
    checked = select(File.id, *read).where(File.id == driver_id, *where).offset(_FENCE).lateral("checked")
    rows = select(*checked.c, *ranks).select_from(driver_id.table).join(checked, true())
    return rows.offset(_FENCE).subquery("checked_matches")


@dataclass(frozen=True)
class _Counted:
    total: int  # the matches
    only_later: int  # of them, the files only a later plate lets in
    files: int  # the highest file id: the library's size, near enough for `_walk_sort_index`


def _count(session: Session, query: FileQuery) -> int:
    """The number of matches.
    PostgreSQL with a search text counts the checked text matches (`_matches_first`)."""
    if query.has_text and session.get_bind().dialect.name == "postgresql":
        return session.scalar(select(func.count()).select_from(_matches_first(conditions(query)))) or 0
    return _counted(session, query).total


def _counted(session: Session, query: FileQuery) -> _Counted:
    """The matches counted, the count kept for the next page of the same filters (`_COUNTED`)."""
    if _unfiltered(query) or (key := _library_key(session, query)) is None:
        # the whole library's count is one row read anyway (`_counted_statement`)
        return _counted_now(session, query)
    return _COUNTED.recent(key) or _counted_now(session, query, key)


# A list without a search text costs its count: every match is counted, where the page reads 50
# (`filter only` at bench/search's 100k files: 31k matches). The count depends on the filters
# alone, not on the order or the page, so it is kept like the facets (below): per database,
# library version and filter set, and a change to files or tags shows at once.
_COUNTED: Memo[tuple[Any, ...], _Counted] = Memo(1024)  # three numbers each


def _counted_now(session: Session, query: FileQuery, key: tuple[Any, ...] | None = None) -> _Counted:
    """The matches counted, with what the page's statement depends on, in one statement (one
    round trip; PostgreSQL at 100k files, `filter only`: three before, 1.5 + 1.4 ms of the
    two small ones, bench/search/bench_search.py). With later plates in play the count is the
    files whose plate 1 passes (through the filters' index, as without plates) plus those only
    a later plate lets in: two quick counts where the OR would scan every file (5 + 1 ms
    against 34 ms at 100k files). Kept under `key` when given."""
    row = session.execute(_prepared(session, query, "counted", lambda: _counted_statement(query)),
                          query.parameters).one()
    counted = _Counted(total=(row[0] or 0) + (row[1] or 0), only_later=row[1] or 0, files=row[2] or 0)
    if key is not None:
        _COUNTED.remember(key, counted)
    return counted


def _counted_statement(query: FileQuery) -> Select[Any]:
    files = select(func.max(File.id)).scalar_subquery()
    none: Any = _ZERO
    first = _plate_filters(query, File)
    if _unfiltered(query):
        # every file not in the trash: the counter that migration 0017's triggers keep, one row
        # read where PostgreSQL counted an index entry per file (the whole statement 7.2 -> 0.8
        # ms at bench/search's 100k files in one process, the forms alternating; SQLite 0.30 -> 0.27)
        total = select(AppState.value).where(AppState.key == literal_column(f"'{LIVE_FILES}'")).scalar_subquery()
        only_later = none
    elif not first or query.no_later_plate:
        total, only_later = select(func.count()).select_from(File).where(*conditions(query)).scalar_subquery(), none
    else:
        others = _file_conditions(query)
        total = select(func.count()).select_from(File).where(*others, *first).scalar_subquery()
        only_later = select(func.count()).select_from(File).where(
            *others, File.id.in_(_later_plates(query)), and_(*first).is_not(true())).scalar_subquery()
    return select(total, only_later, files)


def search_files(session: Session, query: FileQuery, db: Database | None = None) -> tuple[list[FileRead], int]:
    """One page of matching files and the number of matches. With `db`, PostgreSQL counts on
    a connection of its own while `session` reads the page (`_page_beside_count`)."""
    if query.matches_nothing:
        return [], 0
    if query.has_text:
        if session.get_bind().dialect.name != "postgresql":
            query = with_later_plates(session, query)
        # PostgreSQL checks each text match against the OR with the later plates' subquery,
        # which it reads once: the OR form is no slower than the plain one where no later plate
        # passes (15.8 against 15.6 ms), so asking costs a round trip for nothing (14.7 against
        # 13.9 ms for q=bracket, PETG, 0.4). SQLite's plain form: 3.9 against 6.2 ms with the OR.
        # (search_files at bench/search's 100k files, the forms alternating, 2026-12-04.)
        return _search_by_matches(session, query)
    if db is not None and session.get_bind().dialect.name == "postgresql":
        return _page_beside_count(session, query, db)
    counted = _counted(session, query)
    if counted.total <= query.offset:
        return [], counted.total
    if not counted.only_later:
        # every match passes by plate 1: the page's statement leaves file_plates out
        query = replace(query, no_later_plate=True)
    walk = _walk_sort_index(query, parse_sort(query.sort, has_text=query.has_text)[0], counted)
    dialect = session.get_bind().dialect.name
    page = _prepared(session, query, f"page, walk={walk}",
                     lambda: _paged(_page(query, dialect, walk_sort_index=walk), query))
    # The page's ids first, then their rows: a sort then carries (key, id) pairs, not whole rows
    # with their metadata JSON (the relevance page of `q=bracket`, 1,157 matches at 100k files)
    return service.read_files(session, list(session.scalars(page, query.parameters))), counted.total


def _page_beside_count(session: Session, query: FileQuery, db: Database) -> tuple[list[FileRead], int]:
    """PostgreSQL without a search text: the count runs on a second connection while this one
    reads the page, two server processes at once. The page needs nothing from the count here:
    the sort-index hints that do on SQLite (`_walk_sort_index`) are SQLite's only, and whether
    a later plate can let files in is one quick look-up of its own (`with_later_plates`).
    `filter only` at bench/search's 100k files over HTTP: p95 31.8 -> 23.9 ms
    (bench/search/bench_search.py --against, docs/performance.md)."""
    counting = db.beside(session, lambda side: _counted(side, query))
    query = with_later_plates(session, query)
    page = _prepared(session, query, "page", lambda: _paged(_page(query, "postgresql"), query))
    items = service.read_files(session, list(session.scalars(page, query.parameters)))
    return items, counting().total


def _search_by_matches(session: Session, query: FileQuery) -> tuple[list[FileRead], int]:
    """With a search text: the page and the number of matches in one statement, so the matches
    are found and checked once, not once for the count and again for the page (they are all
    read for either: the text drives). SQLite at 100k files, in-process: query + two filters
    10 -> 6 ms, one-word 4.3 -> 3.8 ms (bench/search/bench_search.py's library)."""
    dialect = session.get_bind().dialect.name
    page = _prepared(session, query, "page and count",
                     lambda: _paged(_page(query, dialect).add_columns(func.count().over()), query))
    rows = session.execute(page, query.parameters).all()
    total = rows[0][1] if rows else _count(session, query)  # past the last page: counted alone
    return service.read_files(session, [row[0] for row in rows]), total


# ---- facets ----------------------------------------------------------------------------------
#
# Each facet counts the files that match every filter but its own (search_schemas.Facets). Not
# one statement per facet (a scan each: 300 ms at 100k files with one filter) but one walk of
# ix_files_facets that groups the files by all five facet columns at once, with in SQL only the
# filters no facet switches off (text, tag, ranges, flags, trash); the facet filters are then
# applied to the groups (a few thousand) in Python, to each facet all filters but its own. Files
# with later plates (a few per cent) are counted there by plate 1 and corrected from all plates.

FACET_COLUMNS = ("kind", "slicer", "filament_type", "nozzle_diameter", "printer_model")
PLATE_FACETS = ("slicer", "filament_type", "nozzle_diameter", "printer_model")  # each plate says its own
PlateValues = tuple[Any, ...]  # a plate's PLATE_FACETS values, in that order


def _facet_free(query: FileQuery) -> FileQuery:
    """The query without the filters the column facets switch off."""
    return replace(query, kind=(), slicer=(), filament_type=(), nozzle_diameter=(), printer_model=(),
                   no_later_plate=False)


def _allows(query: FileQuery, name: str, value: Any) -> bool:
    """One facet filter as Python reads it: the same test as its SQL in `_plate_filters`."""
    wanted: Sequence[Any] = getattr(query, name)
    if not wanted:
        return True
    if name == "nozzle_diameter":
        return value is not None and any(v - FLOAT_TOLERANCE <= value <= v + FLOAT_TOLERANCE for v in wanted)
    return value in wanted


@dataclass(frozen=True)
class _PlatedFile:
    """A file passing the filters no facet switches off, with a later plate that passes the
    range filters: its plates that pass them (plate 1 first, when it does)."""

    id: int
    kind: str
    plates: list[PlateValues]
    first_passes: bool  # plates[0] is plate 1


class _Tally:
    """Facet counts and the total, added up from files given by their kind and their plates
    that pass the range filters; `weight` counts several alike files at once (or takes away)."""

    def __init__(self, query: FileQuery):
        self.query = query
        self.total = 0
        self.counts: dict[str, Counter[Any]] = {name: Counter() for name in FACET_COLUMNS}
        self._allowed: dict[tuple[str, Any], bool] = {}

    def _allows(self, name: str, value: Any) -> bool:
        key = (name, value)
        if key not in self._allowed:
            self._allowed[key] = _allows(self.query, name, value)
        return self._allowed[key]

    def _failing(self, plate: PlateValues) -> list[int]:
        """The positions of the plate facets whose filter the plate fails."""
        return [i for i, name in enumerate(PLATE_FACETS) if not self._allows(name, plate[i])]

    def matches(self, kind: str, plates: Sequence[PlateValues]) -> bool:
        """Whether the file matches the whole query."""
        return self._allows("kind", kind) and any(not self._failing(plate) for plate in plates)

    def add(self, kind: str, plates: Sequence[PlateValues], weight: int = 1) -> None:
        kind_allowed = self._allows("kind", kind)
        gained: list[set[Any]] = [set() for _ in PLATE_FACETS]
        passing = False
        for plate in plates:
            # a plate counts under its value of a facet when it passes every other facet's
            # filter: under all of them when it fails none, under that one's when it fails one
            failing = self._failing(plate)
            passing = passing or not failing
            for i in failing if failing else range(len(PLATE_FACETS)):
                if len(failing) < 2:
                    gained[i].add(plate[i])
        if passing:
            self.counts["kind"][kind] += weight
            self.total += weight if kind_allowed else 0
        if kind_allowed:
            for i, name in enumerate(PLATE_FACETS):
                for value in gained[i]:
                    self.counts[name][value] += weight

    def ranked(self, name: str) -> list[FacetValue]:
        return _ranked([(v, n) for v, n in self.counts[name].items() if n > 0 and v is not None and v != ""])


def _column_facets(session: Session, query: FileQuery) -> tuple[_Tally, list[_PlatedFile]]:
    """The five column facets and the total; the files with later plates in play."""
    free = _facet_free(query)
    plate_one = [getattr(File, name) for name in PLATE_FACETS]
    where = _file_conditions(free) + _plate_filters(free, File)  # plate 1's ranges
    if not free.has_text and not free.tag:
        # trash, ranges and flags only, true of most rows: SQLite then walks ix_files_facets in
        # its own order (no sort of the groups) rather than a range column's index
        where = [_Likelihood("likely", condition) for condition in where]
    tally = _Tally(query)
    grouped = select(*plate_one, File.kind, func.count()).where(*where).group_by(*plate_one, File.kind)
    for *plate, kind, count in session.execute(grouped):
        tally.add(kind, [tuple(plate)], count)
    plated = _plated_files(session, free)
    for file in plated:  # counted above by plate 1 alone: now by every plate that passes
        if file.first_passes:
            tally.add(file.kind, file.plates[:1], -1)
        tally.add(file.kind, file.plates)
    return tally, plated


def _plated_files(session: Session, free: FileQuery) -> list[_PlatedFile]:
    """The files passing `free` (no facet filter in it) with a later plate that passes its
    range filters. Read through ix_file_plates_later: later plates are few."""
    later = (select(Plate.file_id, File.kind, *(getattr(Plate, name) for name in PLATE_FACETS))
             .join(File, File.id == Plate.file_id)
             .where(LATER_PLATE, *_plate_filters(free, Plate), *_file_conditions(free)))
    files: dict[int, tuple[str, list[PlateValues]]] = {}
    for file_id, kind, *plate in session.execute(later):
        files.setdefault(file_id, (kind, []))[1].append(tuple(plate))
    if not files:
        return []
    with_later = select(Plate.file_id).where(LATER_PLATE, *_plate_filters(free, Plate))
    first = select(File.id, *(getattr(File, name) for name in PLATE_FACETS)).where(
        File.id.in_(with_later), *_file_conditions(free), *_plate_filters(free, File))
    firsts: dict[int, PlateValues] = {file_id: tuple(plate) for file_id, *plate in session.execute(first)}
    return [_PlatedFile(file_id, kind, [firsts[file_id], *later] if file_id in firsts else later, file_id in firsts)
            for file_id, (kind, later) in sorted(files.items())]


def _tag_facet(session: Session, query: FileQuery, plated: list[_PlatedFile]) -> list[FacetValue]:
    own_filter_off = replace(query, tag=())
    grouped = select(file_tags.c.tag_id, func.count()).group_by(file_tags.c.tag_id)
    if _unfiltered(own_filter_off):
        # Whole library: count the tag index (no table reads), then take away the trash. Not
        # grouped: SQLite would walk the whole index to save a sort of a few rows.
        trashed = select(file_tags.c.tag_id).select_from(File).join(file_tags, file_tags.c.file_id == File.id)
        trashed = trashed.where(_trashed())
        rows = _minus(_counts(session, grouped), Counter(session.scalars(trashed)))
    else:
        if query.tag:  # the files with later plates, this time whatever their tags
            plated = _plated_files(session, _facet_free(own_filter_off))
        # the files plate 1 lets in (through the filters' indexes), then those only a later plate does
        counts = Counter(_counts(session, grouped.join(File, File.id == file_tags.c.file_id)
                                 .where(*_first_plate_conditions(own_filter_off))))
        check = _Tally(own_filter_off)
        only_later = [file.id for file in plated
                      if check.matches(file.kind, file.plates)
                      and not (file.first_passes and check.matches(file.kind, file.plates[:1]))]
        for start in range(0, len(only_later), LATER_PLATES_INLINE):
            chunk = only_later[start:start + LATER_PLATES_INLINE]
            counts.update(_counts(session, grouped.where(file_tags.c.file_id.in_(chunk))))
        rows = list(counts.items())
    names = _counts(session, select(Tag.id, Tag.name))  # all tags: no id list to overflow
    return _ranked([(names[tag_id], count) for tag_id, count in rows if tag_id in names])


# Every FileQuery field that adds a condition to `conditions` (q: when it has a word).
FILTER_FIELDS = ("kind", "slicer", "filament_type", "nozzle_diameter", "printer_model", "tag", "layer_height_min",
                 "layer_height_max", "estimated_time_min", "estimated_time_max", "uploaded_after",
                 "uploaded_before", "printed", "has_thumbnail", "favourite")


def _unfiltered(query: FileQuery) -> bool:
    """Whether the only condition is "not in the trash", told from the fields: building the
    conditions to count them cost up to half a millisecond of a request."""
    return query.fts_expression is None and all(
        value is None or (isinstance(value, list | tuple) and not value)
        for value in (getattr(query, name) for name in FILTER_FIELDS))


def _counts(session: Session, stmt: Select[*tuple[Any, ...]]) -> dict[Any, int]:
    return {value: count for value, count in session.execute(stmt)}


def _minus(everything: dict[Any, int], trashed: Mapping[Any, int]) -> list[tuple[Any, int]]:
    return [(v, n - trashed.get(v, 0)) for v, n in everything.items() if n > trashed.get(v, 0)]


def _ranked(rows: list[tuple[Any, int]]) -> list[FacetValue]:
    rows.sort(key=lambda row: (-row[1], str(row[0]).casefold()))
    return [FacetValue(value=value, count=count) for value, count in rows]


# Facets are the sidebar of every library page, asked again for every page of the same filters:
# the latest are kept per database, library version and filter set, so a change shows at once.
# Triggers (migration 0007) bump app_state["library_version"] on every change to files and tags.
_CACHED: Memo[tuple[Any, ...], Facets] = Memo(256)  # small answers (a few KB each)
LIBRARY_VERSION = "library_version"
_VERSION = select(AppState.value).where(AppState.key == literal_column(f"'{LIBRARY_VERSION}'"))
LIVE_FILES = "live_files"  # kept by migration 0017's triggers: the files not in the trash


def _filter_set(query: FileQuery) -> tuple[Any, ...]:
    """What the facets depend on: every field but the page and its order."""
    return tuple((f.name, tuple(value) if isinstance(value := getattr(query, f.name), list | tuple) else value)
                 for f in fields(query) if f.name not in ("sort", "limit", "offset", "no_later_plate"))


def _library_key(session: Session, query: FileQuery) -> tuple[Any, ...] | None:
    """What an answer for `query`'s filters (its facets, its count) is kept under; None where the
    database has no library version. Read before the counts, so none is ever kept under a
    version older than its data (core/db.py, POSTGRESQL_READ_SETTINGS)."""
    version = session.scalar(_VERSION)
    return None if version is None else (str(session.get_bind().engine.url), int(version), _filter_set(query))


def facets(session: Session, query: FileQuery) -> Facets:
    if query.matches_nothing or (key := _library_key(session, query)) is None:
        return _facets(session, query)
    return _CACHED.get(key, lambda: None, lambda: _facets(session, query))


def _facets(session: Session, query: FileQuery) -> Facets:
    if query.matches_nothing:
        return Facets(total=0, kind=[], slicer=[], filament_type=[], nozzle_diameter=[], printer_model=[], tags=[])
    tally, plated = _column_facets(session, query)
    return Facets(total=tally.total, tags=_tag_facet(session, query, plated),
                  **{name: tally.ranked(name) for name in FACET_COLUMNS})
