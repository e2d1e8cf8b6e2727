"""Request and response shapes for cases."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.review.models import CaseOut
from kcnguard.records import CaseState
from kcnguard.records.base import Slug

__all__ = ["CaseOut", "CasePage", "ReferIn", "TransitionIn"]


class TransitionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to": "confirmed", "note": "Logo và tem chống giả sai", "version": "3"}]},
    )

    to: CaseState
    note: str | None = Field(default=None, max_length=5000)
    version: str | None = Field(default=None, max_length=100, description="The version read; or send If-Match")


class ReferIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"agencies": ["qltt-tinh"], "note": "Đề nghị kiểm tra kho", "version": "4"}]},
    )

    agencies: list[Slug] = Field(min_length=1, max_length=20)
    note: str | None = Field(default=None, max_length=5000)
    version: str | None = Field(default=None, max_length=100, description="The version read; or send If-Match")


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int
