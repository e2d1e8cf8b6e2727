"""The readings a scorer keeps between batches, bounded, and owned by that scorer alone.

Titles repeat across re-crawls and a shop has many listings: what was read from a text (its
spellings, brand matches, counterfeit terms, masked words, tf-idf columns, n-gram reasons) or
from a shop's name is kept and reused. Everything kept is a function of its key alone, so a kept
reading gives the very scores and reasons a fresh one would. The scorer makes one Memo and hands
it down to the brand matcher, the feature extractor and the model's feature matrix; nothing is
kept at module level or in the trained model, so a new scorer starts with nothing read and
nothing needs clearing by hand.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Listing texts whose readings are kept.
TEXT_BOUND = 20_000
# Shops whose names were read.
SELLER_BOUND = 50_000
# Spellings of matched brand names (few and short, shared by many texts).
SPELLING_BOUND = 65_536


class Kept(dict[K, V]):
    """A dict of kept readings that is emptied when it would grow past its bound (a crude bound, not an
    LRU: the working set of a crawl fits, and emptying costs nothing per lookup)."""

    __slots__ = ("bound",)

    def __init__(self, bound: int) -> None:
        super().__init__()
        self.bound = bound

    def make_room(self, adding: int) -> None:
        """Empty it if `adding` more entries would take it past its bound."""
        if len(self) + adding > self.bound:
            self.clear()

    def keep(self, key: K, value: V) -> V:
        if len(self) >= self.bound:
            self.clear()
        self[key] = value
        return value


class Memo:
    """One scorer's kept readings, each store bounded."""

    __slots__ = ("masked", "matches", "reads", "sellers", "shops", "spellings", "text_columns", "text_reasons")

    def __init__(self, texts: int = TEXT_BOUND, sellers: int = SELLER_BOUND, spellings: int = SPELLING_BOUND) -> None:
        # Per listing text (and crawl query): its normalised spellings and brand matches.
        self.matches: Kept = Kept(texts)
        # Per text: counterfeit terms, term-masked words and second-hand words.
        self.reads: Kept = Kept(texts)
        # Per (text, brand): the words the model reads, names and terms masked.
        self.masked: Kept = Kept(texts)
        # Per masked text: its tf-idf columns and weights.
        self.text_columns: Kept = Kept(texts)
        # Per masked text: the reasons quoting its n-grams.
        self.text_reasons: Kept = Kept(texts)
        # Per shop name: its spellings and counterfeit words; per (shop, brand): what it says of the brand.
        self.shops: Kept = Kept(sellers)
        self.sellers: Kept = Kept(sellers)
        # Per folded spelling of a matched name: whether it is disguised.
        self.spellings: Kept = Kept(spellings)
