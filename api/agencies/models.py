"""A partner agency in the registry."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from api.enterprises.models import Contact
from kcnguard.records.base import AwareDatetime, CleanText, Slug, utcnow


class AgencyKind(StrEnum):
    MARKET_SURVEILLANCE = "market_surveillance"  # Quản lý thị trường
    POLICE = "police"  # Công an kinh tế
    ECOMMERCE_AUTHORITY = "ecommerce_authority"  # Cục TMĐT và Kinh tế số
    OTHER = "other"


class AgencyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "qltt-tinh",
                    "name": "Cục Quản lý thị trường tỉnh",
                    "kind": "market_surveillance",
                    "contact": {"name": "Phòng Nghiệp vụ", "email": "nghiepvu@qltt.example", "phone": "0243 825 1234"},
                }
            ]
        },
    )

    slug: Slug = Field(description="The agency's id: partner keys and users carry it as owner_id")
    name: CleanText = Field(min_length=1, max_length=300)
    kind: AgencyKind
    contact: Contact | None = None


class Agency(AgencyIn):
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)


class AgencyPage(BaseModel):
    items: list[Agency]
    total: int
    limit: int
    offset: int
