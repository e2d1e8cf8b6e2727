"""A listing as a marketplace shows it at one moment, and as the store remembers it over time."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kcnguard.records.base import AwareDatetime, CleanText, Record, RecordId, Sha256Hex, Slug, max_bytes, utcnow
from kcnguard.store.schema import Collection, Kind, searchable

# In UTF-8 bytes, the unit the stores count ids in: a listing's key (marketplace:id, at most 64 + 1 + 256)
# and its score's key (listing key|brand id, at most 386) then stay under Elasticsearch's 512-byte _id.
MAX_LISTING_ID_BYTES = 256
MAX_LISTING_KEY_BYTES = 64 + 1 + MAX_LISTING_ID_BYTES
ListingId = Annotated[
    str, Field(min_length=1, max_length=MAX_LISTING_ID_BYTES, pattern=r"^[^\s/|]+$"), max_bytes(MAX_LISTING_ID_BYTES)
]
Url = Annotated[str, Field(min_length=8, max_length=4096, pattern=r"^https?://[^\s]+$")]
# schema.org's two states that matter for a takedown check; the rest (PreOrder, ...) are not mapped.
Availability = Literal["InStock", "OutOfStock"]


# Enough for years of daily crawls; beyond it the oldest sightings give way.
MAX_HISTORY = 1000


def listing_key(marketplace: str, listing_id: str) -> str:
    """The one identity of a listing: a re-crawl updates it, never duplicates it."""
    return f"{marketplace}:{listing_id}"


class Seller(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: CleanText | None = Field(default=None, max_length=128)
    name: CleanText | None = Field(default=None, max_length=300)
    official: bool = Field(default=False, description="The marketplace itself marks the shop official or mall")


class Listing(Record):
    marketplace: Slug
    listing_id: ListingId
    url: Url
    title: CleanText = Field(min_length=1, max_length=1000)
    description: CleanText | None = Field(default=None, max_length=20_000)
    price: float | None = Field(
        default=None, ge=0, le=1e12, description="In `currency`; VND on the Vietnamese marketplaces"
    )
    original_price: float | None = Field(default=None, ge=0, le=1e12)
    currency: str = Field(default="VND", pattern=r"^[A-Z]{3}$", description="ISO 4217")
    brand: CleanText | None = Field(default=None, max_length=300, description="The brand the page declares")
    sku: CleanText | None = Field(default=None, max_length=128)
    gtin: str | None = Field(default=None, pattern=r"^\d{8,14}$", description="GTIN-8/12/13/14, digits only")
    mpn: CleanText | None = Field(default=None, max_length=128)
    availability: Availability | None = None
    seller: Seller = Field(default_factory=Seller)
    sold_count: int | None = Field(default=None, ge=0)
    rating: float | None = Field(default=None, ge=0, le=5)
    images: list[Url] = Field(default_factory=list, max_length=50)
    category: CleanText | None = Field(default=None, max_length=300)
    location: CleanText | None = Field(default=None, max_length=300)
    captured_at: AwareDatetime = Field(default_factory=utcnow)
    evidence_digest: Sha256Hex = Field(description="SHA-256 of the raw response the listing was read from")
    crawl_job_id: RecordId | None = None
    query_brand_id: Slug | None = Field(default=None, description="The brand whose crawl job found it")

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def key(self) -> str:
        return listing_key(self.marketplace, self.listing_id)


class Observation(BaseModel):
    """One sighting of a listing: the history that takedown checks and price charts read."""

    model_config = ConfigDict(extra="forbid")

    captured_at: AwareDatetime
    price: float | None = None
    original_price: float | None = None
    sold_count: int | None = None
    availability: Availability | None = None
    evidence_digest: Sha256Hex


class StoredListing(Record):
    """The store's memory of one listing: the newest capture plus every sighting before it."""

    key: str
    listing: Listing
    first_seen_at: AwareDatetime
    last_seen_at: AwareDatetime
    history: list[Observation] = Field(default_factory=list)
    status: str = Field(default="active", pattern="^(active|removed)$")
    removed_at: AwareDatetime | None = None

    @classmethod
    def first(cls, listing: Listing) -> StoredListing:
        return cls(
            key=listing.key,
            listing=listing,
            first_seen_at=listing.captured_at,
            last_seen_at=listing.captured_at,
            history=[_observation(listing)],
        )

    def seen_again(self, listing: Listing) -> StoredListing:
        """Merge a new capture; replaying the same capture changes nothing (idempotent)."""
        seen = {(o.captured_at, o.evidence_digest) for o in self.history}
        observation = _observation(listing)
        history = list(self.history)
        if (observation.captured_at, observation.evidence_digest) not in seen:
            history.append(observation)
            history.sort(key=lambda o: o.captured_at)
            history = history[-MAX_HISTORY:]
        newest = listing if listing.captured_at >= self.listing.captured_at else self.listing
        return self.model_copy(
            update={
                "listing": newest,
                "first_seen_at": min(self.first_seen_at, listing.captured_at),
                "last_seen_at": max(self.last_seen_at, listing.captured_at),
                "history": history,
                "status": "active" if newest is listing else self.status,
                "removed_at": None if newest is listing else self.removed_at,
            }
        )


def _observation(listing: Listing) -> Observation:
    return Observation(
        captured_at=listing.captured_at,
        price=listing.price,
        original_price=listing.original_price,
        sold_count=listing.sold_count,
        availability=listing.availability,
        evidence_digest=listing.evidence_digest,
    )


LISTINGS = Collection(
    "listings",
    {
        "key": searchable("key", Kind.KEYWORD),
        "marketplace": searchable("listing.marketplace", Kind.KEYWORD),
        "seller_id": searchable("listing.seller.id", Kind.KEYWORD),
        "title": searchable("listing.title", Kind.TEXT),
        "price": searchable("listing.price", Kind.FLOAT),
        "status": searchable("status", Kind.KEYWORD),
        "last_seen_at": searchable("last_seen_at", Kind.DATE),
        "crawl_job_id": searchable("listing.crawl_job_id", Kind.KEYWORD),
        "evidence_digest": searchable("listing.evidence_digest", Kind.KEYWORD),
    },
    # A listing's page shows the seller's other listings on the same marketplace, newest first.
    indexes=(
        ("marketplace", "last_seen_at"),
        ("status", "last_seen_at"),
        ("seller_id", "marketplace", "last_seen_at"),
    ),
)
