"""What is known about a seller: the share of its scored listings found counterfeit.

A seller whose other listings were flagged (and not dismissed by an inspector) or confirmed is
more likely to be at it again. The feature extractor asks through one protocol, SellerHistory,
whoever answers: the store (the worker, StoreSellerHistory), a table given with the rows (seed
data, `kcnguard score` files) or nobody (the signal stays neutral).
"""

from __future__ import annotations

from typing import Any, Protocol

from kcnguard.records import Listing
from kcnguard.store import Query, Store

# Review statuses of a score (kcnguard.records.case.review_status) that leave a flag standing.
NOT_DISMISSED = ("new", "needs_info", "confirmed")


class SellerHistory(Protocol):
    def share_flagged(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        """(share of the seller's scored listings flagged or confirmed, how many were scored); None: unknown."""
        ...


def seller_key(listing: Listing) -> str | None:
    """How a seller is known across its listings: its marketplace id, else its shop name."""
    return listing.seller.id or listing.seller.name


class NoSellerHistory:
    """No history known: the seller-history signal stays neutral."""

    def share_flagged(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        return None


class SellerHistoryTable:
    """A history given as a table: {(marketplace, seller id or name): (share, count)}."""

    def __init__(self, table: dict[tuple[str, str], tuple[float, int]]) -> None:
        self.table = table

    def share_flagged(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        return self.table.get((marketplace, seller_id))


class StoreSellerHistory:
    """Counts over the store's scores (by marketplace and seller id), cached for one batch.

    Counts are of scores, one per listing and brand: a listing scored for two brands counts
    twice, which weighs a multi-brand counterfeiter slightly more, not less.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[tuple[str, str], tuple[float, int] | None] = {}

    def new_batch(self) -> None:
        """Forget cached answers: the previous batch's scores are now in the store."""
        self._cache.clear()

    def share_flagged(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        if not seller_id:
            return None
        key = (marketplace, seller_id)
        if key not in self._cache:
            self._cache[key] = self._read(marketplace, seller_id)
        return self._cache[key]

    def _read(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        seller = {"marketplace": marketplace, "seller_id": seller_id}
        total = self._count(seller)
        if total == 0:
            return None
        # An inspector's decision outranks the model's flag, in both directions.
        flagged_kept = self._count({**seller, "flagged": True, "review_status": list(NOT_DISMISSED)})
        confirmed_unflagged = self._count({**seller, "flagged": False, "review_status": "confirmed"})
        return (flagged_kept + confirmed_unflagged) / total, total

    def _count(self, filters: dict[str, Any]) -> int:
        return self.store.scored.count(Query(filters=filters))
