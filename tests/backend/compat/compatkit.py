"""Shared shapes of the compat tests."""

from dataclasses import dataclass

from fastapi.testclient import TestClient

from printstash.core.db import Database


@dataclass
class Slicer:
    client: TestClient  # no default credentials: each recorded step carries its own headers
    key: str
    db: Database
