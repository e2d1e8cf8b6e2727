"""Request and response shapes for brands, built from the shared Brand record so they never drift."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from kcnguard.records import Brand

# Kept by the server, never taken from a request.
SERVER_FIELDS = frozenset({"schema_version", "created_at", "updated_at", "rights_status"})

BRAND_EXAMPLE: dict[str, Any] = {
    "brand_id": "sua-tuoi-kcn",
    "owner_id": "cty-sua-kcn",
    "owner_name": "Công ty CP Sữa KCN",
    "name": "Sữa Tươi KCN",
    "aliases": ["SuaTuoiKCN", "sua tuoi kcn"],
    "negative_keywords": ["hộp rỗng", "vỏ hộp"],
    "category": "Sữa & đồ uống",
    "trademarks": [{"number": "4-0312345-000", "office": "IP Viet Nam", "nice_classes": [29, 32]}],
    "products": [{"name": "Sữa tươi tiệt trùng 1L", "sku": "STK-1L", "reference_price_vnd": 32000}],
    "official_sellers": [{"marketplace": "shopee", "seller_id": "12345678", "seller_name": "Sữa KCN Official"}],
    "marketplaces": ["shopee", "tiki"],
    "crawl_interval_minutes": 360,
}


# The IP Office of Viet Nam's numbers: a registration certificate 4-0123456-000, an application 4-2023-12345.
IPVN_CERTIFICATE = re.compile(r"^4-\d{7}-\d{3}$")
IPVN_APPLICATION = re.compile(r"^4-(19|20)\d{2}-\d{5}$")
IPVN_OFFICES = {"ip viet nam", "ip vietnam", "noip", "cục sở hữu trí tuệ", "cuc so huu tri tue"}
# A Vietnamese registration runs 10 years from filing and is renewed 10 at a time.
MAX_TERM = timedelta(days=366 * 11)


class BrandInBase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_max_length=100_000,
        json_schema_extra={"examples": [BRAND_EXAMPLE]},
    )

    @model_validator(mode="after")
    def _trademark_numbers(self) -> BrandInBase:
        problems = []
        for i, mark in enumerate(getattr(self, "trademarks", None) or []):
            if mark.office.casefold() in IPVN_OFFICES:
                number = mark.number.strip()
                if not (IPVN_CERTIFICATE.match(number) or IPVN_APPLICATION.match(number)):
                    problems.append(
                        f"trademarks.{i}.number: '{number}' is not an IP Viet Nam number: a certificate "
                        "looks like 4-0123456-000, an application like 4-2023-12345"
                    )
            if mark.expires_on is not None and mark.expires_on > date.today() + MAX_TERM:
                problems.append(
                    f"trademarks.{i}.expires_on: {mark.expires_on} is more than 10 years ahead; "
                    "a registration runs 10 years from filing"
                )
        names = {n.casefold() for n in [getattr(self, "name", ""), *(getattr(self, "aliases", None) or [])] if n}
        clashing = [k for k in getattr(self, "negative_keywords", None) or [] if k.casefold() in names]
        if clashing:
            # A negative keyword drops every listing that contains it: the brand's own name would drop them all.
            problems.append(
                f"negative_keywords: {clashing} are the brand's own name or aliases and would hide every listing"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_brand(self, **server: Any) -> Brand:
        """The stored record; Brand's own validators (dedupe, cross-field rules) run again here."""
        return Brand.model_validate({**self.model_dump(), **server})


# Every Brand field a client may set, with Brand's exact types and limits.
BrandIn = create_model(  # type: ignore[call-overload]
    "BrandIn",
    __base__=BrandInBase,
    __doc__="A brand to watch for: who owns it, its names, trademarks, products and official sellers.",
    **{name: (field.annotation, field) for name, field in Brand.model_fields.items() if name not in SERVER_FIELDS},
)


class VerifyIn(BaseModel):
    """An inspector's finding on the trademark rights an enterprise claims for its brand."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["verified", "rejected"]
    note: str = Field(min_length=1, max_length=2000, description="What was checked (certificate, register, owner)")


class BrandPage(BaseModel):
    items: list[Brand]
    total: int
    limit: int
    offset: int
