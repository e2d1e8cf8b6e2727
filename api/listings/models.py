"""Response shapes for flagged listings and a listing's stored history."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kcnguard.records import CaseState, Listing, Observation, ScoredListing, Seller
from kcnguard.records.scoring import Reason


class ReasonOut(BaseModel):
    code: str = Field(description="Stable name of the signal")
    weight: float = Field(description="Its contribution to the score (log-odds)")
    text: str = Field(description="What it means, in the requested language")

    @classmethod
    def of(cls, reason: Reason, lang: str) -> ReasonOut:
        return cls(code=reason.code, weight=reason.weight, text=reason.text(lang))


class CaseRef(BaseModel):
    case_id: str
    state: CaseState


class FlaggedListing(BaseModel):
    listing_key: str
    brand_id: str
    score: float
    threshold: float
    model_version: str
    scored_at: datetime
    marketplace: str
    listing_id: str
    title: str
    url: str
    price: float | None
    currency: str
    seller: Seller
    evidence_digest: str = Field(description="SHA-256 of the raw page the listing was read from")
    captured_at: datetime
    reasons: list[ReasonOut]
    case: CaseRef | None = None

    @classmethod
    def of(cls, scored: ScoredListing, lang: str, case: CaseRef | None) -> FlaggedListing:
        listing = scored.listing
        # Strongest signals first: that is the order an inspector checks them in.
        reasons = sorted(scored.reasons, key=lambda r: -abs(r.weight))
        return cls(
            listing_key=listing.key,
            brand_id=scored.brand_id,
            score=scored.score,
            threshold=scored.threshold,
            model_version=scored.model_version,
            scored_at=scored.scored_at,
            marketplace=listing.marketplace,
            listing_id=listing.listing_id,
            title=listing.title,
            url=listing.url,
            price=listing.price,
            currency=listing.currency,
            seller=listing.seller,
            evidence_digest=listing.evidence_digest,
            captured_at=listing.captured_at,
            reasons=[ReasonOut.of(r, lang) for r in reasons],
            case=case,
        )


class FlaggedPage(BaseModel):
    items: list[FlaggedListing]
    total: int
    limit: int
    offset: int
    lang: str


class ListingScore(BaseModel):
    brand_id: str
    score: float
    flagged: bool
    model_version: str
    scored_at: datetime
    reasons: list[ReasonOut]
    case: CaseRef | None = None


class ListingDetail(BaseModel):
    key: str
    status: str
    first_seen_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None
    listing: Listing
    history: list[Observation] = Field(description="Every sighting, oldest first")
    scores: list[ListingScore] = Field(description="How it scored against each brand this key may see")
