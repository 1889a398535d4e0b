"""Request and response bodies of the printers API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from printstash.core.params import BodyId
from printstash.printers.providers.base import LiveStatus, SensorKind, Webcam
from printstash.printers.urls import clean_printer_url


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


class PrinterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    provider: Literal["moonraker"] = "moonraker"
    url: str = Field(min_length=1, max_length=512, description="base URL, e.g. http://printer.local:7125")
    api_key: str | None = Field(default=None, max_length=512, description="write-only; never returned")
    poll_interval: float | None = Field(default=None, ge=0.2, le=3600,
                                        description="seconds; default VAULT_PRINTER_POLL_SECONDS")

    _name = field_validator("name")(_clean_name)
    _url = field_validator("url")(clean_printer_url)


class PrinterCheck(BaseModel):
    """POST /printers/check: a printer's address (and key) to try before adding it."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["moonraker"] = "moonraker"
    url: str = Field(min_length=1, max_length=512, description="base URL, e.g. http://printer.local:7125")
    api_key: str | None = Field(default=None, max_length=512)

    _url = field_validator("url")(clean_printer_url)


class PrinterFound(BaseModel):
    """What the check found: `message` says it in words (the version and Klippy's state, or
    why the printer could not be reached)."""

    reachable: bool
    version: str | None = None  # Moonraker's version
    klippy_state: str | None = None  # ready | startup | shutdown | error | disconnected
    message: str


class PrinterUpdate(BaseModel):
    """Only the fields sent change; `api_key: null` or "" removes the key."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128)
    url: str | None = Field(default=None, min_length=1, max_length=512)
    api_key: str | None = Field(default=None, max_length=512)
    poll_interval: float | None = Field(default=None, ge=0.2, le=3600)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _clean_name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else clean_printer_url(value)


class PrinterStatusRead(LiveStatus):
    """The worker's latest view plus how old it is."""

    updated_at: datetime | None = Field(default=None, description="when this status last changed")
    last_seen: datetime | None = Field(default=None, description="last successful answer from the printer")
    age_s: float | None = Field(default=None, description="seconds since the worker last confirmed it")


class PrinterRead(BaseModel):
    id: int
    name: str
    provider: str
    url: str
    has_api_key: bool
    poll_interval: float
    created_at: datetime
    status: PrinterStatusRead


class PrintJobRead(BaseModel):
    id: int
    printer_id: int
    printer_name: str
    job_id: str
    filename: str
    file_id: int | None
    status: str
    start_time: datetime | None
    end_time: datetime | None
    print_duration: float | None
    total_duration: float | None
    filament_used: float | None


class PrintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_id: BodyId
    plate: int = Field(default=1, ge=1, le=1000)  # which plate of a sliced package (1: the only one)


class PrintStarted(BaseModel):
    printer_id: int
    file_id: int
    remote_filename: str = Field(description="where the file was put on the printer")


class SensorRead(BaseModel):
    """A thermometer now and over the last minutes (`history`: one reading a second, oldest
    first; a gap is null)."""

    name: str
    kind: SensorKind
    temperature: float | None
    target: float | None = None
    speed: float | None = Field(default=None, description="a temperature fan's speed, 0-1")
    history: list[float | None]
    target_history: list[float | None] | None = None


class Temperatures(BaseModel):
    seconds_per_reading: float = 1.0
    sensors: list[SensorRead]


class WebcamRead(Webcam):
    index: int
    picture_url: str = Field(description="a current picture, fetched by the api from the printer's host")
