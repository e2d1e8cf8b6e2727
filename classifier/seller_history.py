"""What is known about a seller: the share of its scored listings found counterfeit.

A seller whose other listings were flagged (and not dismissed by an inspector) or confirmed is
more likely to be at it again. The feature extractor asks through one protocol, SellerHistory,
whoever answers: the store (the worker, StoreSellerHistory), a table given with the rows (seed
data, `kcnguard score` files) or nobody (the signal stays neutral).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from kcnguard.records import Listing
from kcnguard.store import Query, Store
from kcnguard.store.base import MAX_WINDOW

# Review statuses of a score (kcnguard.records.case.review_status) that leave a flag standing.
NOT_DISMISSED = ("new", "needs_info", "confirmed")
# The batch's own stored scores are read this many at a time.
OWN_PAGE = 1000


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

    The batch's own listings are left out of their sellers' counts: a re-delivered or replayed listing
    would otherwise count its own earlier score (and its batch neighbours') and score differently each
    time, opening and leaving cases on a replay. So a seller's history is its other listings, as stored.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[tuple[str, str], tuple[float, int] | None] = {}
        self._own: dict[tuple[str, str], tuple[int, int]] = {}

    def new_batch(self, listings: Sequence[Listing] = ()) -> None:
        """Forget cached answers (the previous batch's scores are now in the store) and read what the
        batch's own listings already count for, in one search."""
        self._cache.clear()
        self._own = self._own_counts(sorted({listing.key for listing in listings if seller_key(listing)}))

    def share_flagged(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        if not seller_id:
            return None
        key = (marketplace, seller_id)
        if key not in self._cache:
            self._cache[key] = self._read(marketplace, seller_id)
        return self._cache[key]

    def _read(self, marketplace: str, seller_id: str) -> tuple[float, int] | None:
        seller = {"marketplace": marketplace, "seller_id": seller_id}
        own_total, own_kept = self._own.get((marketplace, seller_id), (0, 0))
        total = self._count(seller) - own_total
        if total <= 0:
            return None
        # An inspector's decision outranks the model's flag, in both directions.
        flagged_kept = self._count({**seller, "flagged": True, "review_status": list(NOT_DISMISSED)})
        confirmed_unflagged = self._count({**seller, "flagged": False, "review_status": "confirmed"})
        return (flagged_kept + confirmed_unflagged - own_kept) / total, total

    def _count(self, filters: dict[str, Any]) -> int:
        return self.store.scored.count(Query(filters=filters))

    def _own_counts(self, keys: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
        """(scores, scores counted as flagged) per (marketplace, seller id) of the stored scores of `keys`."""
        own: dict[tuple[str, str], tuple[int, int]] = {}
        if not keys:
            return own
        query = Query(filters={"listing_key": keys}, sort=[("listing_key", "asc")], size=OWN_PAGE, count=False)
        while True:
            page = self.store.scored.search_bodies(query)
            for body in page.items:
                seller_id = (body["listing"].get("seller") or {}).get("id")
                if not seller_id:
                    continue
                key = (body["listing"]["marketplace"], seller_id)
                total, kept = own.get(key, (0, 0))
                own[key] = (total + 1, kept + _counts_flagged(body))
            if len(page.items) < OWN_PAGE or query.offset + OWN_PAGE >= MAX_WINDOW:
                return own
            query = replace(query, offset=query.offset + OWN_PAGE)


def _counts_flagged(body: dict[str, Any]) -> int:
    status = body.get("review_status", "new")
    return int((body.get("flagged") and status in NOT_DISMISSED) or (not body.get("flagged") and status == "confirmed"))
