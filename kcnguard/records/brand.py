"""A registered brand: who owns it, how it is named, what it costs, who may sell it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kcnguard.records.base import AwareDatetime, CleanText, Record, Slug, utcnow
from kcnguard.store.schema import Collection, Kind, searchable


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trademark(Part):
    number: CleanText = Field(min_length=1, max_length=64, description="Certificate or application number")
    office: CleanText = Field(default="IP Viet Nam", max_length=64)
    nice_classes: list[int] = Field(default_factory=list, max_length=45)
    expires_on: date | None = None

    @field_validator("nice_classes")
    @classmethod
    def _nice_range(cls, classes: list[int]) -> list[int]:
        bad = [c for c in classes if not 1 <= c <= 45]
        if bad:
            raise ValueError(f"Nice classes run from 1 to 45; got {bad}")
        return sorted(set(classes))


class Product(Part):
    name: CleanText = Field(min_length=1, max_length=300)
    sku: CleanText | None = Field(default=None, max_length=100)
    reference_price_vnd: int = Field(gt=0, le=10_000_000_000)


class OfficialSeller(Part):
    marketplace: Slug
    seller_id: CleanText | None = Field(default=None, max_length=128)
    seller_name: CleanText | None = Field(default=None, max_length=300)
    # An official store is the brand's own; an authorised seller is a reseller it vouches for.
    kind: str = Field(default="official", pattern="^(official|authorised)$")

    @model_validator(mode="after")
    def _named(self) -> OfficialSeller:
        if not (self.seller_id or self.seller_name):
            raise ValueError("an official seller needs a seller_id or a seller_name")
        return self


class RightsStatus(StrEnum):
    """Whether the Board has checked that the owner holds the brand's trademark rights."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Brand(Record):
    brand_id: Slug
    owner_id: Slug = Field(description="The KCN enterprise that owns the brand")
    owner_name: CleanText = Field(min_length=1, max_length=300)
    name: CleanText = Field(min_length=1, max_length=200)
    aliases: list[CleanText] = Field(default_factory=list, max_length=200)
    negative_keywords: list[CleanText] = Field(default_factory=list, max_length=200)
    category: CleanText | None = Field(default=None, max_length=100)
    trademarks: list[Trademark] = Field(default_factory=list, max_length=100)
    products: list[Product] = Field(default_factory=list, max_length=1000)
    official_sellers: list[OfficialSeller] = Field(default_factory=list, max_length=500)
    marketplaces: list[Slug] = Field(
        default_factory=list, description="Where to watch; empty means every configured one"
    )
    crawl_interval_minutes: int = Field(default=360, ge=5, le=60 * 24 * 30)
    # Verified by default: brands loaded by an administrator (`kcnguard brands load`, the demo, records
    # stored before rights were checked) were vouched for by whoever loaded them. The API sets "pending"
    # on a brand an enterprise registers itself, and only a verified brand is crawled and scored.
    rights_status: RightsStatus = Field(
        default=RightsStatus.VERIFIED,
        description="pending until an inspector checks the owner's trademark rights; only verified brands are watched",
    )
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @field_validator("aliases", "negative_keywords")
    @classmethod
    def _dedupe(cls, words: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for word in words:
            if word and word.casefold() not in seen:
                seen[word.casefold()] = word
        return list(seen.values())

    @property
    def names(self) -> list[str]:
        """The brand's name first, then its aliases: what a buyer would type."""
        return [self.name, *[a for a in self.aliases if a.casefold() != self.name.casefold()]]

    @property
    def monitored(self) -> bool:
        """Crawled, scored and shown in queues: only once the Board has verified the claimed rights."""
        return self.rights_status is RightsStatus.VERIFIED

    @property
    def min_reference_price_vnd(self) -> int | None:
        prices = [p.reference_price_vnd for p in self.products]
        return min(prices) if prices else None

    def is_official_seller(self, marketplace: str, seller_id: str | None, seller_name: str | None) -> bool:
        for seller in self.official_sellers:
            if seller.marketplace != marketplace:
                continue
            if seller.seller_id and seller_id and seller.seller_id == seller_id:
                return True
            if seller.seller_name and seller_name and seller.seller_name.casefold() == seller_name.casefold():
                return True
        return False

    def touched(self, at: datetime | None = None) -> Brand:
        return self.model_copy(update={"updated_at": at or utcnow()})


BRANDS = Collection(
    "brands",
    {
        "brand_id": searchable("brand_id", Kind.KEYWORD),
        "owner_id": searchable("owner_id", Kind.KEYWORD),
        "name": searchable("name", Kind.TEXT),
        "updated_at": searchable("updated_at", Kind.DATE),
    },
)
