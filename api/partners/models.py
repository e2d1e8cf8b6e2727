"""Request and response shapes of the partner API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.records import ActionKind, CaseState, Referral
from kcnguard.records.base import CleanText

# The partner's own page cap: a pull of more than this per call is a bulk export, not a sync.
MAX_PARTNER_LIMIT = 100

_CASE_EXAMPLE = {
    "case_id": "case-3f1c2a9b0d4e5f6a7b8c",
    "state": "referred",
    "brand_id": "vinamilk-sua-tuoi",
    "listing_key": "shopee:1234567",
    "score": 0.91,
    "referral": {
        "agency": "qltt-tinh",
        "referred_at": "2026-03-02T08:15:00Z",
        "referred_by": "inspector:lan.tt",
        "acknowledged_at": None,
        "acknowledged_by": None,
        "actions": [],
    },
    "updated_at": "2026-03-02T08:15:00.123000Z",
    "version": "5",
}


class PartnerCaseSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CASE_EXAMPLE]})

    case_id: str
    state: CaseState
    brand_id: str
    listing_key: str
    score: float
    referral: Referral = Field(description="This agency's referral only; other agencies' stay private")
    updated_at: datetime
    version: str = Field(description="Send back to acknowledge or report (If-Match or 'version')")


class PartnerCasePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [_CASE_EXAMPLE], "next_cursor": "eyJwIjoiWzEsXCIyMDI2LTAz...", "has_more": False}]
        }
    )

    items: list[PartnerCaseSummary]
    next_cursor: str = Field(description="Pass as ?cursor= to continue; keep the last one to pick up later changes")
    has_more: bool


class EvidenceRef(BaseModel):
    digest: str = Field(description="SHA-256 of the raw page as captured")
    captured_at: datetime
    price: float | None
    sold_count: int | None
    url: str = Field(description="Where to download the raw page (gzip-decoded HTML)")


class ListingInfo(BaseModel):
    key: str
    marketplace: str
    title: str
    url: str
    price: float | None
    currency: str
    seller_id: str | None
    seller_name: str | None
    status: str
    first_seen_at: datetime
    last_seen_at: datetime


class TrademarkInfo(BaseModel):
    number: str
    office: str
    nice_classes: list[int]
    expires_on: date | None


class SellerInfo(BaseModel):
    marketplace: str
    seller_id: str | None
    seller_name: str | None
    kind: str


class BrandIp(BaseModel):
    brand_id: str
    name: str
    owner_id: str
    owner_name: str
    trademarks: list[TrademarkInfo]
    official_sellers: list[SellerInfo]


class PartnerCaseDetail(PartnerCaseSummary):
    model_config = ConfigDict(json_schema_extra={"examples": [_CASE_EXAMPLE]})

    listing: ListingInfo | None = Field(description="None when the listing is no longer in the store")
    evidence: list[EvidenceRef]
    brand: BrandIp | None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": "5"}]})

    version: str | None = Field(default=None, max_length=100, description="The version read; or send If-Match")


class ActionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "takedown_requested",
                    "document_number": "123/QLTT-NV",
                    "document_date": "2026-03-05",
                    "note": "Đã đề nghị sàn gỡ tin đăng",
                    "version": "6",
                }
            ]
        },
    )

    kind: ActionKind
    document_number: CleanText | None = Field(default=None, max_length=100)
    document_date: date | None = None
    note: CleanText | None = Field(default=None, max_length=5000)
    version: str | None = Field(default=None, max_length=100, description="The version read; or send If-Match")
