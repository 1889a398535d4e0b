"""Stored files, their parsed metadata and thumbnails.

Metadata lives twice on purpose: the fields people filter and sort on are typed, indexed
columns; the whole parse result (Moonraker's names plus ours) is kept as JSON for display.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from printstash.core.db import Base, UTCDateTime, utcnow
from printstash.library.schemas import ParseStatus
from printstash.library.substrings import name_text


class File(Base):
    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_uploaded_at", "uploaded_at"),
        Index("ix_files_name", "name"),
        # Covers the filter sidebar's columns, so counting the matches of a filter reads this
        # narrow index instead of whole rows (metadata JSON inline): 28 -> 4 ms at 100k files;
        # and groups the files by every facet column in one walk (library/search.py's facets).
        Index("ix_files_facets", "slicer", "filament_type", "nozzle_diameter", "printer_model", "kind",
              "layer_height", "estimated_time", "deleted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # the name as substring search compares it (library/substrings.py), set with the name
    name_search: Mapped[str] = mapped_column(Text, default="", server_default="")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # in the trash since
    # what the content is (library/kinds.py): gcode | bgcode | gcode.3mf | ufp | stl | obj | 3mf
    kind: Mapped[str] = mapped_column(String(16), default="gcode", server_default="gcode", index=True)

    parse_status: Mapped[ParseStatus] = mapped_column(String(16), default="ok")
    parse_error: Mapped[str | None] = mapped_column(Text)
    full_scan_done: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # a model's mesh facts (schemas.ModelRead); NULL for sliced kinds
    model_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # typed copies of the metadata fields used by filters, sorting and facets
    slicer: Mapped[str | None] = mapped_column(String(64), index=True)
    slicer_version: Mapped[str | None] = mapped_column(String(64))
    printer_model: Mapped[str | None] = mapped_column(String(128), index=True)
    filament_type: Mapped[str | None] = mapped_column(String(128), index=True)
    filament_name: Mapped[str | None] = mapped_column(String(255))
    nozzle_diameter: Mapped[float | None] = mapped_column(Float, index=True)
    layer_height: Mapped[float | None] = mapped_column(Float, index=True)
    estimated_time: Mapped[float | None] = mapped_column(Float, index=True)
    filament_total: Mapped[float | None] = mapped_column(Float, index=True)
    filament_weight_total: Mapped[float | None] = mapped_column(Float)
    object_height: Mapped[float | None] = mapped_column(Float)
    layer_count: Mapped[int | None] = mapped_column(Integer)
    thumbnail_count: Mapped[int] = mapped_column(Integer, default=0)

    # print history summary, kept by the printers domain's history import
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    last_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_print_result: Mapped[str | None] = mapped_column(String(32))

    favourite: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    tags: Mapped[list["Tag"]] = relationship(secondary="file_tags", order_by="Tag.name")
    thumbnails: Mapped[list["Thumbnail"]] = relationship(
        back_populates="file", order_by="Thumbnail.index", cascade="all, delete-orphan"
    )
    plates: Mapped[list["Plate"]] = relationship(order_by="Plate.index", cascade="all, delete-orphan")

    @validates("name")
    def _keep_name_search(self, _key: str, name: str) -> str:
        self.name_search = name_text(name)
        return name


PLATE_FILTER_COLUMNS = ("slicer", "printer_model", "filament_type", "nozzle_diameter", "layer_height",
                        "estimated_time")


class Plate(Base):
    """One sliced plate of a file: its own G-code's metadata (a plain .gcode/.bgcode/.ufp has
    one plate, a .gcode.3mf one per sliced plate). Plate 1's metadata is also the file's."""

    __tablename__ = "file_plates"
    __table_args__ = (
        UniqueConstraint("file_id", "index"),
        # Search reads the plates after the first (plate 1's fields are the file's own
        # columns). Nearly every file has one plate, so a partial index of the later ones is
        # short, and it covers the filters so their rows (with large metadata) are not read;
        # the query repeats its condition literally so that both databases use it.
        Index("ix_file_plates_later", "file_id", *PLATE_FILTER_COLUMNS, sqlite_where=text('"index" > 1'),
              postgresql_where=text('"index" > 1')),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)  # 1-based, as the slicer numbers plates
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # typed copies of the plate's fields that filters and facets look at (service.PLATE_COLUMNS):
    # a file matches a filter when any of its plates does (library/search.py)
    slicer: Mapped[str | None] = mapped_column(String(64))
    printer_model: Mapped[str | None] = mapped_column(String(128))
    filament_type: Mapped[str | None] = mapped_column(String(128))
    nozzle_diameter: Mapped[float | None] = mapped_column(Float)
    layer_height: Mapped[float | None] = mapped_column(Float)
    estimated_time: Mapped[float | None] = mapped_column(Float)


class Thumbnail(Base):
    """A thumbnail image decoded from the G-code, stored under thumbs/."""

    __tablename__ = "thumbnails"
    __table_args__ = (UniqueConstraint("file_id", "index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))  # png | jpg (qoi: stored by versions before QOI was converted)
    plate: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the Plate.index it shows
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(255))  # relative to thumbs/

    file: Mapped[File] = relationship(back_populates="thumbnails")


file_tags = Table(
    "file_tags",
    Base.metadata,
    Column("file_id", ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    """A user label; created on first use."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SQLite vaults keep the NOCASE column they were made with; name_key decides equality
    name: Mapped[str] = mapped_column(String(64).with_variant(String(64, collation="NOCASE"), "sqlite"), unique=True)
    name_key: Mapped[str] = mapped_column(String(64))  # tags.tag_key(name); unique (migration 0009)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_tags_name_key", "name_key", unique=True),)
