"""Request and response bodies of the auth domain."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "member"]


class StatusRead(BaseModel):
    configured: bool


class SetupRequest(BaseModel):
    setup_token: str = Field(max_length=200)
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class LoginRequest(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    remember: bool = False


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    disabled: bool
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    role: Role = "member"


class UserUpdate(BaseModel):
    """Admin edits: any subset; `password` is a reset and signs the user out everywhere."""

    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, max_length=1024)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class ApiKeyRead(BaseModel):
    """Never carries key material: only the first characters, to tell keys apart."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="the key itself; shown only in this response")


class SessionRead(BaseModel):
    """A signed-in browser of the current user (never the token)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime | None
    user_agent: str | None
    remember: bool
    current: bool = False
