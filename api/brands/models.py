"""Request and response shapes for brands, built from the shared Brand record so they never drift."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from kcnguard.records import Brand

# Kept by the server, never taken from a request.
SERVER_FIELDS = frozenset({"schema_version", "created_at", "updated_at"})

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


class BrandInBase(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_max_length=100_000,
        json_schema_extra={"examples": [BRAND_EXAMPLE]},
    )

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


class BrandPage(BaseModel):
    items: list[Brand]
    total: int
    limit: int
    offset: int
