"""A listing judged against one brand: the score and the reasons an inspector can check."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kcnguard.records.base import AwareDatetime, Record, Slug, utcnow
from kcnguard.records.listing import Listing


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
