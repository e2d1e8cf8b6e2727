"""An enterprise in the registry, validated: Vietnamese tax code, zone, contact."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kcnguard.records.base import AwareDatetime, CleanText, Slug, utcnow

# Mã số thuế: 10 digits for the enterprise, 10-3 for a dependent branch (e.g. 0101234567-001).
TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
# Vietnamese numbers: 0 or +84 then 9-10 digits (mobile 0912 345 678, landline 024 3825 1234).
PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")

ENTERPRISE_EXAMPLE: dict[str, Any] = {
    "enterprise_id": "cty-giay-da-vinastep",
    "name": "Công ty TNHH Giày Da Vinastep",
    "tax_code": "0101234567",
    "zone": "KCN Hòa Phú",
    "address": "Lô A3, KCN Hòa Phú",
    "contact": {"name": "Trần Thị Mai", "email": "mai.tran@vinastep.example", "phone": "0912 345 678"},
}


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CleanText = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=30)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not EMAIL.match(value):
            raise ValueError(f"'{value}' is not an email address (name@domain.vn)")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        compact = re.sub(r"[\s.()-]", "", value)
        if not PHONE.match(compact):
            raise ValueError(f"'{value}' is not a Vietnamese phone number (0912 345 678 or +84 912 345 678)")
        return compact


class EnterpriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ENTERPRISE_EXAMPLE]})

    enterprise_id: Slug
    name: CleanText = Field(min_length=1, max_length=300)
    tax_code: str = Field(description="Mã số thuế: 10 digits, or 10-3 for a branch")
    zone: CleanText = Field(min_length=1, max_length=200, description="The industrial zone (KCN)")
    address: CleanText | None = Field(default=None, max_length=500)
    contact: Contact

    @field_validator("tax_code")
    @classmethod
    def _tax_code(cls, value: str) -> str:
        value = value.strip()
        if not TAX_CODE.match(value):
            raise ValueError(
                f"'{value}' is not a Vietnamese tax code: 10 digits (0101234567), or 13 with a branch (0101234567-001)"
            )
        return value


class Enterprise(EnterpriseIn):
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)


class EnterprisePage(BaseModel):
    items: list[Enterprise]
    total: int
    limit: int
    offset: int
