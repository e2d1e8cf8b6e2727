"""The named signals and the text a listing is judged on, for one brand it concerns.

Signals are the cues an inspector would name (a counterfeit term, a disguised brand, a price
far below the brand's cheapest product, an official seller, descriptive use); the text part
lets the model weigh the rest of the wording. Brand names are masked in the text so the
model learns how sellers write about a brand, not which brands the seed data happened to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from classifier.brands import BrandMatch, BrandMatcher, listing_text
from classifier.lexicon import Lexicon, TermHit, default_lexicon
from classifier.normalize import Normalized, normalize
from kcnguard.records import Listing

# Price buckets against the brand's cheapest genuine product: below 30% is implausible for
# the real thing, below 50% suspicious, above that ordinary discounting.
VERY_LOW_RATIO = 0.3
LOW_RATIO = 0.5

COUNTERFEIT_TERM = "counterfeit_term"
OBFUSCATED_BRAND = "obfuscated_brand"
PRICE_VERY_LOW = "price_very_low"
PRICE_LOW = "price_low"
PRICE_PLAUSIBLE = "price_plausible"
OFFICIAL_SELLER = "official_seller"
DESCRIPTIVE_USE = "descriptive_use"
NO_BRAND_MATCH = "no_brand_match"
SIGNALS = (
    COUNTERFEIT_TERM,
    OBFUSCATED_BRAND,
    PRICE_VERY_LOW,
    PRICE_LOW,
    PRICE_PLAUSIBLE,
    OFFICIAL_SELLER,
    DESCRIPTIVE_USE,
    NO_BRAND_MATCH,
)
BRAND_TOKEN = "brandname"
_NON_WORD = re.compile(r"[^\w:]+")


@dataclass(frozen=True)
class Evidence:
    """What the signals were read from, so a reason can quote it."""

    match: BrandMatch
    terms: list[TermHit] = field(default_factory=list)
    price: float | None = None
    reference_price: int | None = None
    ratio: float | None = None
    seller_name: str | None = None


@dataclass(frozen=True)
class Features:
    signals: dict[str, float]
    text: str
    evidence: Evidence

    def row(self) -> dict[str, Any]:
        return {"signals": self.signals, "text": self.text}


def term_feature(term_id: str) -> str:
    return f"{COUNTERFEIT_TERM}={term_id}"


def signal_code(feature: str) -> str:
    """The reason code of a signal feature: 'counterfeit_term=replica' is a counterfeit_term."""
    return feature.split("=", 1)[0]


def pick_signals(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    return [r["signals"] for r in rows]


def pick_text(rows: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in rows]


class FeatureExtractor:
    def __init__(self, matcher: BrandMatcher, lexicon: Lexicon | None = None) -> None:
        self.matcher = matcher
        self.lexicon = lexicon or default_lexicon()

    def extract(self, listing: Listing, match: BrandMatch, text: Normalized | None = None) -> Features:
        text = text or normalize(listing_text(listing))
        brand = match.brand
        signals: dict[str, float] = {}
        terms = self.lexicon.find(text)
        if terms:
            signals[COUNTERFEIT_TERM] = 1.0
            for hit in terms:
                signals[term_feature(hit.term.id)] = 1.0
        if match.obfuscated:
            signals[OBFUSCATED_BRAND] = 1.0
        reference = brand.min_reference_price_vnd
        ratio = None
        # Only a VND price compares with a VND reference; a missing or zero price says nothing.
        if listing.currency == "VND" and listing.price and reference:
            ratio = listing.price / reference
            bucket = PRICE_VERY_LOW if ratio < VERY_LOW_RATIO else PRICE_LOW if ratio < LOW_RATIO else PRICE_PLAUSIBLE
            signals[bucket] = 1.0
        seller = listing.seller
        if seller.official or brand.is_official_seller(listing.marketplace, seller.id, seller.name):
            signals[OFFICIAL_SELLER] = 1.0
        if match.descriptive:
            signals[DESCRIPTIVE_USE] = 1.0
        if not match.name_found:
            signals[NO_BRAND_MATCH] = 1.0
        evidence = Evidence(match, terms, listing.price, reference, ratio, seller.name)
        return Features(signals, self.masked_text(text, match), evidence)

    def masked_text(self, text: Normalized, match: BrandMatch) -> str:
        masked = self.matcher.mask(match.brand.brand_id, text.deobfuscated, BRAND_TOKEN)
        return " ".join(_NON_WORD.sub(" ", masked).split())
