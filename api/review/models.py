"""Request and response shapes of the review queue, a listing's review page, and decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.listings.models import CaseRef, ListingDetail, ReasonOut
from kcnguard.records import Case, Seller

# A bulk decision larger than this is a data migration, not a review.
MAX_BULK = 500

ReviewStatus = Literal["new", "needs_info", "confirmed", "dismissed"]


class Decision(StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    NEEDS_INFO = "needs_info"


@dataclass(frozen=True)
class QueueFilters:
    brand_id: str | None = None
    marketplace: str | None = None
    seller_id: str | None = None
    status: str | None = None  # one of ReviewStatus
    scored_from: datetime | None = None
    scored_to: datetime | None = None
    q: str | None = None
    source: str = "all"  # all, crawl (flagged listings) or report (received reports not yet crawled)


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    offset: int = 0


class QueueItem(BaseModel):
    source: Literal["crawl", "report"]
    key: str = Field(description="What to decide on: listing_key|brand_id, or the report id")
    listing_key: str | None
    brand_id: str | None
    score: float | None = Field(description="None for a report nobody has scored yet")
    status: ReviewStatus
    title: str
    url: str
    marketplace: str | None
    seller: Seller | None
    price: float | None
    currency: str | None
    at: datetime = Field(description="When it was scored, or when the report came in")
    reasons: list[ReasonOut] = Field(default_factory=list)
    case: CaseRef | None = None
    report_id: str | None = None


class QueuePage(BaseModel):
    items: list[QueueItem]
    total: int
    # More matched than the store counts (kcnguard.store.MAX_WINDOW, as deep as paging goes): show "total+".
    total_capped: bool = False
    limit: int
    offset: int
    lang: str


class SellerListing(BaseModel):
    listing_key: str
    title: str
    url: str
    price: float | None
    status: str
    last_seen_at: datetime


class CaseOut(BaseModel):
    case: Case
    version: str = Field(description="Send it back as If-Match (or `version`) to change the case")
    review_status: ReviewStatus


class ReviewDetail(ListingDetail):
    evidence_url: str = Field(description="Where to download the raw page the newest capture was read from")
    seller_listings: list[SellerListing] = Field(description="The same seller's other stored listings (newest first)")
    seller_listings_total: int
    cases: list[CaseOut] = Field(description="The cases of this listing against each brand this caller may see")


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"keys": ["demo:10023|vinastep"], "decision": "confirm", "note": "Logo sai, giá 30% giá tham khảo"}
            ]
        },
    )

    keys: list[str] = Field(
        min_length=1,
        max_length=MAX_BULK,
        description="listing_key|brand_id (a queue item's key), or a listing key for every brand it is flagged for",
    )
    decision: Decision
    note: str | None = Field(default=None, max_length=5000)
    versions: dict[str, str] | None = Field(
        default=None, description="Optional key -> case version as last seen; a key whose case moved since is a 409"
    )


class DecisionResult(BaseModel):
    key: str
    ok: bool
    status: int = Field(description="200 done, 404 not found or not yours, 409 changed meanwhile, 422 not allowed")
    case_id: str | None = None
    state: str | None = None
    review_status: str | None = None
    version: str | None = None
    detail_vi: str | None = None
    detail_en: str | None = None


class DecisionOut(BaseModel):
    results: list[DecisionResult]
    done: int
    failed: int
