"""Request and response shapes for logging in, users and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.auth.enums import Role, Scope
from api.auth.users import USERNAME_PATTERN, UserOut
from kcnguard.records.base import Slug
from kcnguard.store import ApiKey


class LoginIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"username": "lan.thanhtra", "password": "mật khẩu dài"}]}
    )

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class SessionOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once")
    expires_at: datetime
    username: str
    role: Role


class MeOut(BaseModel):
    name: str
    role: Role
    owner_id: str | None
    scopes: list[str]
    via: str
    display_name: str | None


class UserIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "hoa.vinastep",
                    "password": "một mật khẩu đủ dài",
                    "role": "enterprise",
                    "owner_id": "cty-giay-da-vinastep",
                    "display_name": "Nguyễn Thị Hoa",
                }
            ]
        },
    )

    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=1, max_length=256)
    role: Role
    owner_id: Slug | None = None
    display_name: str | None = Field(default=None, max_length=200)


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class KeyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "QLTT tỉnh - hệ thống", "role": "partner", "owner_id": "qltt-tinh"}]},
    )

    name: str = Field(min_length=1, max_length=200)
    role: Role
    owner_id: Slug | None = None
    scopes: list[Scope] = Field(default_factory=list, description="Narrow the role's scopes; empty: all of them")


class KeyOut(BaseModel):
    key_id: str = Field(description="The SHA-256 of the key: how it is named for revocation")
    name: str
    role: str
    scopes: list[str]
    owner_id: str | None
    created_at: str
    revoked_at: str | None
    revoked_by: str | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(
            key_id=key.key_hash,
            name=key.name,
            role=key.role,
            scopes=key.scopes,
            owner_id=key.owner_id,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            revoked_by=key.revoked_by,
        )


class NewKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown this once, stored only as its hash")


class KeyPage(BaseModel):
    items: list[KeyOut]
    total: int
    limit: int
    offset: int
