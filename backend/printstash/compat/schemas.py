"""OctoPrint-shaped answers: only the keys slicers read, with the same names and types."""

from pydantic import BaseModel, Field


class VersionRead(BaseModel):
    # PrusaSlicer requires `api`; it and Cura require `text` to start with "OctoPrint".
    api: str
    server: str
    text: str


class FileRefs(BaseModel):
    resource: str
    download: str


class StoredFile(BaseModel):
    name: str
    path: str
    origin: str = "local"
    refs: FileRefs


class StoredFiles(BaseModel):
    local: StoredFile


class UploadRead(BaseModel):
    files: StoredFiles
    done: bool = True
    effective_select: bool = Field(False, serialization_alias="effectiveSelect")
    effective_print: bool = Field(False, serialization_alias="effectivePrint")


class FileCommand(BaseModel):
    """POST /api/files/local/<name> (Cura uploads first, then asks to select/print)."""

    command: str = Field(max_length=32)
    print: bool = False
