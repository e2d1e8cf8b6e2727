"""A listing judged against one brand: the score and the reasons an inspector can check."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.records.base import AwareDatetime, Record, Slug, utcnow
from kcnguard.records.listing import Listing
from kcnguard.store.schema import Collection, Kind, searchable


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64, description="Stable name of the signal, e.g. counterfeit_term")
    weight: float = Field(description="The signal's contribution to the score (log-odds)")
    vi: str = Field(max_length=1000)
    en: str = Field(max_length=1000)

    def text(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


class ScoredListing(Record):
    listing: Listing
    brand_id: Slug
    score: float = Field(ge=0, le=1)
    flagged: bool
    threshold: float = Field(ge=0, le=1)
    reasons: list[Reason] = Field(default_factory=list, max_length=50)
    model_version: str = Field(min_length=1, max_length=128)
    scored_at: AwareDatetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        return scored_key(self.listing.key, self.brand_id)


def scored_key(listing_key: str, brand_id: str) -> str:
    return f"{listing_key}|{brand_id}"


SCORED = Collection(
    "scored",
    {
        "listing_key": searchable("listing_key", Kind.KEYWORD),
        "brand_id": searchable("brand_id", Kind.KEYWORD),
        "marketplace": searchable("listing.marketplace", Kind.KEYWORD),
        "seller_id": searchable("listing.seller.id", Kind.KEYWORD),
        "title": searchable("listing.title", Kind.TEXT),
        "score": searchable("score", Kind.FLOAT),
        "flagged": searchable("flagged", Kind.BOOL),
        "model_version": searchable("model_version", Kind.KEYWORD),
        "scored_at": searchable("scored_at", Kind.DATE),
        # new / confirmed / dismissed / needs_info, from the listing's case (kcnguard.records.case.review_status)
        "review_status": searchable("review_status", Kind.KEYWORD),
    },
    # The review queue (flagged scores of a brand, best first) is read by every inspector page. Every equality
    # filter an inspector combines (a brand or a marketplace, with or without a status) leads an index ending
    # in the sort, so a page reads 50 index entries and a count reads only matching entries.
    indexes=(
        ("brand_id", "flagged", "score DESC"),
        ("brand_id", "flagged", "review_status", "score DESC"),
        # A brand on one marketplace: without these, the brand's or the marketplace's index was read row by row
        # to test the other filter.
        ("brand_id", "marketplace", "flagged", "score DESC"),
        ("brand_id", "marketplace", "flagged", "review_status", "score DESC"),
        ("marketplace", "flagged", "score DESC"),
        ("marketplace", "flagged", "review_status", "score DESC"),
        ("flagged", "score DESC"),
        ("flagged", "review_status", "score DESC"),
        ("seller_id", "marketplace", "scored_at"),
    ),
)
