"""The named signals and the text a listing is judged on, for one brand it concerns.

Signals are the cues an inspector would name (a counterfeit term, a disguised or abbreviated
brand, a price far below the brand's cheapest product, an official seller, a shop whose name
declares fakes or disguises the brand, the seller's record, descriptive use); the text part
lets the model weigh the rest of the wording. Brand names and counterfeit terms are masked in
the text so the model learns how sellers write about a brand, not which brands the seed data
happened to use, and so no n-gram repeats a signal.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from classifier.brand_matching import BrandMatch, BrandMatcher
from classifier.keyword_build import keyword_builder
from classifier.lexicon import Lexicon, Term, TermHit, default_lexicon, default_market_terms
from classifier.memo import Memo
from classifier.normalize import Normalized, fold, listing_text, normalize
from classifier.phrase_scan import PhraseScan
from classifier.seller_history import NoSellerHistory, SellerHistory, seller_key
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
ABBREVIATED_BRAND = "abbreviated_brand"
SELLER_COUNTERFEIT_NAME = "seller_counterfeit_name"
SELLER_DISGUISED_BRAND = "seller_disguised_brand"
SELLER_HISTORY = "seller_history"
# The seller says the goods are used: a price far below new is then expected of genuine goods.
SECOND_HAND = "second_hand"
SIGNALS = (
    COUNTERFEIT_TERM,
    OBFUSCATED_BRAND,
    ABBREVIATED_BRAND,
    PRICE_VERY_LOW,
    PRICE_LOW,
    PRICE_PLAUSIBLE,
    OFFICIAL_SELLER,
    SELLER_COUNTERFEIT_NAME,
    SELLER_DISGUISED_BRAND,
    SELLER_HISTORY,
    DESCRIPTIVE_USE,
    NO_BRAND_MATCH,
    SECOND_HAND,
)
# A seller's record says something only once it has a few scored listings.
MIN_SELLER_LISTINGS = 3
# How far below the reference a price is, in natural-log steps, counted up to this depth.
MAX_PRICE_DEPTH = 3.0


BRAND_TOKEN = "brandname"
TERM_TOKEN = "counterfeitterm"
# The model reads runs of word characters and colons ("1:1"); everything else only separates them.
_WORD_RUN = re.compile(r"[\w:]+")
# The same cut for an ASCII text, as a table indexed by code point (str.translate reads a list
# without hashing, unlike a dict): every other ASCII character becomes a space.
_ASCII_NON_WORD = [chr(code) if chr(code).isalnum() or chr(code) in "_:" else " " for code in range(128)]


# Not frozen: one is built per listing and brand, and a frozen dataclass is slower to build (every
# field set through object.__setattr__); nothing assigns to one after it is made.
@dataclass(slots=True)
class Evidence:
    """What the signals were read from, so a reason can quote it."""

    match: BrandMatch
    terms: list[TermHit] = field(default_factory=list)
    price: float | None = None
    reference_price: int | None = None
    ratio: float | None = None
    seller_name: str | None = None
    seller_terms: list[TermHit] = field(default_factory=list)
    seller_history: tuple[float, int] | None = None
    second_hand: list[TermHit] = field(default_factory=list)


# One is built per listing and brand: by keyword, through a function, so no dict of keywords is
# packed and unpacked per record (classifier/keyword_build.py).
_build_evidence = keyword_builder(Evidence)


# Not frozen: one is built per listing and brand, and a frozen dataclass is slower to build (every
# field set through object.__setattr__); nothing assigns to one after it is made.
@dataclass(slots=True)
class Features:
    signals: dict[str, float]
    text: str
    evidence: Evidence

    def row(self) -> dict[str, Any]:
        return {"signals": self.signals, "text": self.text}


# One is built per listing and brand: by keyword, through a function, so no dict of keywords is
# packed and unpacked per record (classifier/keyword_build.py).
_build_features = keyword_builder(Features)


def term_feature(term_id: str) -> str:
    return f"{COUNTERFEIT_TERM}={term_id}"


def signal_code(feature: str) -> str:
    """The reason code of a signal feature: 'counterfeit_term=replica' is a counterfeit_term."""
    return feature.split("=", 1)[0]


# The model's pipeline picks its two inputs with these; a saved model names them by module and name,
# so they stay here for saved models to load.
def pick_signals(rows: list[dict[str, Any]]) -> list[dict[str, float]]:
    return [r["signals"] for r in rows]


def pick_text(rows: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in rows]


class FeatureExtractor:
    def __init__(
        self,
        matcher: BrandMatcher,
        lexicon: Lexicon | None = None,
        seller_history: SellerHistory | None = None,
        memo: Memo | None = None,
    ) -> None:
        self.matcher = matcher
        self.lexicon = lexicon or default_lexicon()
        self.seller_history = seller_history or NoSellerHistory()
        self.market = default_market_terms()
        # Each brand's lowest reference price, worked out once per brand instead of once per listing.
        self._reference_prices = {b.brand_id: b.min_reference_price_vnd for b in matcher.brands.values()}
        # Most listings spell no term of either vocabulary: one scan of both says so.
        self._any_term = PhraseScan(self.lexicon.readings + self.market.readings)
        memo = memo or Memo()
        self._sellers = memo.sellers
        self._shops = memo.shops
        # Read from the text alone: a listing naming several brands, or a title seen again on a
        # re-crawl, is read once.
        self._reads = memo.reads
        self._masked = memo.masked

    def extract(self, listing: Listing, match: BrandMatch, text: Normalized | None = None) -> Features:
        text = text or normalize(listing_text(listing))
        brand = match.brand
        signals: dict[str, float] = {}
        terms, term_masked, used = self._read_text(text)
        if terms:
            signals[COUNTERFEIT_TERM] = 1.0
            for hit in terms:
                signals[term_feature(hit.term.id)] = 1.0
        if match.obfuscated:
            signals[OBFUSCATED_BRAND] = 1.0
        if match.abbreviated:
            signals[ABBREVIATED_BRAND] = 1.0
        reference = (
            self._reference_prices[brand.brand_id]
            if brand is self.matcher.brands.get(brand.brand_id)
            else brand.min_reference_price_vnd
        )
        ratio = None
        # Only a VND price compares with a VND reference; a missing or zero price says nothing.
        if listing.currency == "VND" and listing.price and reference:
            ratio = listing.price / reference
            bucket = PRICE_VERY_LOW if ratio < VERY_LOW_RATIO else PRICE_LOW if ratio < LOW_RATIO else PRICE_PLAUSIBLE
            signals[bucket] = 1.0
            if ratio < 1:
                # How deep the discount goes: 10% of the reference is further from genuine than 29%.
                signals[f"{bucket}=depth"] = min(MAX_PRICE_DEPTH, -math.log(ratio))
        seller = listing.seller
        official = seller.official or brand.is_official_seller(listing.marketplace, seller.id, seller.name)
        if official:
            signals[OFFICIAL_SELLER] = 1.0
        seller_terms: list[TermHit] = []
        if seller.name and not official:
            seller_terms, disguised = self._read_seller(seller.name, brand.name)
            if seller_terms:
                signals[SELLER_COUNTERFEIT_NAME] = 1.0
            if disguised:
                signals[SELLER_DISGUISED_BRAND] = 1.0
        history = None
        key = seller_key(listing)
        if key is not None:
            history = self.seller_history.share_flagged(listing.marketplace, key)
            if history is not None and history[1] >= MIN_SELLER_LISTINGS:
                # Centred on zero, so a clean record lowers a score as much as a bad one raises it.
                signals[SELLER_HISTORY] = min(max(history[0], 0.0), 1.0) - 0.5
        if match.descriptive:
            signals[DESCRIPTIVE_USE] = 1.0
        if used:
            signals[SECOND_HAND] = 1.0
        if not match.name_found:
            signals[NO_BRAND_MATCH] = 1.0
        evidence = _build_evidence(
            match=match,
            terms=terms,
            price=listing.price,
            reference_price=reference,
            ratio=ratio,
            seller_name=seller.name,
            seller_terms=seller_terms,
            seller_history=history,
            second_hand=used,
        )
        return _build_features(
            signals=signals, text=self._brand_masked(text.original, term_masked, brand.brand_id), evidence=evidence
        )

    def _read_seller(self, seller_name: str, brand_name: str) -> tuple[list[TermHit], bool]:
        """Counterfeit words in a shop's name, and whether it disguises the brand's name; a shop has
        many listings, so each (shop, brand) is read once."""
        key = (seller_name, brand_name)
        known = self._sellers.get(key)
        if known is not None:
            return known
        seller_text, terms = self._read_shop(seller_name)
        # The shop's name spells the brand only once tricks are undone ('T0SHIBA Việt Nam'); most shop
        # names hide nothing, and then the brand's name need not be folded.
        disguised = False
        if seller_text.deobfuscated != seller_text.folded:
            brand_folded = fold(brand_name)
            disguised = brand_folded in seller_text.deobfuscated and brand_folded not in seller_text.folded
        self._sellers.keep(key, (terms, disguised))
        return terms, disguised

    def _read_shop(self, seller_name: str) -> tuple[Normalized, list[TermHit]]:
        """A shop's name and the counterfeit words in it, whatever the brand: a shop selling several
        brands is read once."""
        known = self._shops.get(seller_name)
        if known is None:
            seller_text = normalize(seller_name)
            terms = self.lexicon.find(seller_text)
            glued = None if terms else self.lexicon.glued_in(seller_text)
            if glued:
                terms = [TermHit(term=Term(id="seller_glued", vi="", en=""), text=glued, start=0, end=0)]
            known = self._shops.keep(seller_name, (seller_text, terms))
        return known

    def _read_text(self, text: Normalized) -> tuple[list[TermHit], str, list[TermHit]]:
        """The counterfeit terms, the term-masked text and the second-hand words of a listing, once
        however many brands it names."""
        read = self._reads.get(text.original)
        if read is None:
            # None: either vocabulary may be spelled, each looks for itself; False: neither is.
            spelled = None if self._any_term.found_in(text.folded) else False
            if spelled is False and text.deobfuscated == text.folded:
                # Most listings: no term spelled and no trick undone to hide one, so neither vocabulary
                # finds anything and there is nothing to mask (what lexicon.read and find give then).
                read = ([], text.deobfuscated, [])
            else:
                terms, masked = self.lexicon.read(text, TERM_TOKEN, spelled)
                read = (terms, masked, self.market.find(text, spelled))
            self._reads.keep(text.original, read)
        return read

    def masked_text(self, text: Normalized, match: BrandMatch) -> str:
        """The words the model reads: brand names and counterfeit terms masked, each a signal of its own
        (and an n-gram reason must never quote "rep 1:1" as wording that looks genuine)."""
        return self._brand_masked(text.original, self._read_text(text)[1], match.brand.brand_id)

    def _brand_masked(self, original: str, term_masked: str, brand_id: str) -> str:
        """masked_text, given the text's term-masked reading from _read_text."""
        key = (original, brand_id)
        words = self._masked.get(key)
        if words is None:
            words = self._masked.keep(key, _words(self.matcher.mask(brand_id, term_masked, BRAND_TOKEN)))
        return words


def _words(text: str) -> str:
    """The text's runs of word characters and colons, one space apart."""
    if text.isascii():
        return " ".join(text.translate(_ASCII_NON_WORD).split())
    return " ".join(_WORD_RUN.findall(text))
