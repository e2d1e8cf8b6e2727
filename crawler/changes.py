"""Change tracking: is a listing gone on a re-check, and which re-checks to send.

Price and sold-count history accumulate in the store on every re-crawl (StoredListing.history).
What the crawler adds is the other half of takedown verification: a re-check job asks the
marketplace for one listing by id, and when the listing is gone (HTTP 404/410, a "not found"
payload, or the marketplace's answer for that id no longer holding it) the listing is marked
removed with the time, so an inspector can see when a reported listing came down.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kcnguard.records import CrawlJob, utcnow
from kcnguard.store import Query, Store

log = logging.getLogger(__name__)

_GONE_STATUSES = {404: "HTTP 404 not found", 410: "HTTP 410 gone"}
# Words marketplaces put in a "this product does not exist" payload (English and Vietnamese).
_GONE_WORDS = (
    "not found",
    "not exist",
    "no longer",
    "removed",
    "deleted",
    "không tồn tại",
    "không tìm thấy",
    "đã bị xoá",
    "đã bị xóa",
    "ngừng kinh doanh",
)
_PAGE = 500


@dataclass(frozen=True)
class Removal:
    key: str
    at: datetime
    reason: str


def removal_reason(status: int, body: bytes, listing_id: str, found_ids: list[str] | None) -> str | None:
    """Why the response to a re-check says the listing is gone; None when it is still there or unsure.

    `found_ids` are the listing ids the parser read from the response (None when it could not
    parse it): an answer for this id that parses but holds other listings only means gone too.
    Unsure answers (a parse failure without a "not found" sign) are not removals: marking a live
    listing removed would close a takedown that did not happen.
    """
    if status in _GONE_STATUSES:
        return _GONE_STATUSES[status]
    payload = _json(body)
    if isinstance(payload, dict):
        gone = _gone_payload(payload)
        if gone:
            return gone
    if found_ids is not None and listing_id not in found_ids:
        return f"the marketplace's answer for id {listing_id} no longer holds it ({len(found_ids)} other listings)"
    return None


def _json(body: bytes) -> Any:
    if body.lstrip()[:1] != b"{":
        return None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _gone_payload(data: dict[str, Any]) -> str | None:
    """Tiki: {"error": {"code": 404, ...}}; Shopee: {"error": 4, "item"/"data": null}; Sendo: status 404."""
    error = data.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    message = " ".join(
        str(v)
        for v in (
            error.get("message") if isinstance(error, dict) else None,
            data.get("message"),
            data.get("msg"),
            data.get("error_msg"),
        )
        if v
    )
    if code in (404, 410, "404", "410") or data.get("status") in (404, 410, "404", "410"):
        return f"the marketplace answers not found ({message[:120] or code})"
    holds_nothing = all(data.get(k) is None for k in ("data", "item")) and ("data" in data or "item" in data)
    if holds_nothing and code not in (None, 0, "0"):
        return f"the marketplace answers error {code!r} with no item ({message[:120] or 'no message'})"
    if holds_nothing and any(word in message.lower() for word in _GONE_WORDS):
        return f"the marketplace answers: {message[:120]}"
    return None


def recheck_jobs(
    store: Store,
    marketplaces: list[str],
    brand_id: str | None = None,
    flagged_only: bool = True,
    now: datetime | None = None,
) -> list[CrawlJob]:
    """One re-check job per active listing of the brand (every brand when None) on the marketplaces.

    The listings are those scored for the brand, the flagged ones by default: the ones a
    takedown is asked for. Job ids carry the day, so re-sending on the same day is one job.
    """
    now = now or utcnow()
    filters: dict[str, Any] = {"flagged": True} if flagged_only else {}
    if brand_id:
        filters["brand_id"] = brand_id
    wanted: dict[str, tuple[str, str, str]] = {}
    offset = 0
    while True:
        page = store.search_scored(Query(filters=filters, sort=[("scored_at", "asc")], size=_PAGE, offset=offset))
        for scored in page.items:
            listing = scored.listing
            if listing.marketplace in marketplaces:
                wanted.setdefault(listing.key, (scored.brand_id, listing.marketplace, listing.listing_id))
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    jobs: list[CrawlJob] = []
    slot = f"recheck-{now.date().isoformat()}"
    for key, (brand, marketplace, listing_id) in wanted.items():
        stored = store.get_listing(key)
        if stored is not None and stored.record.status == "removed":
            continue  # already seen gone; a listing that comes back is found again by the searches
        jobs.append(
            CrawlJob(
                job_id=CrawlJob.make_id(brand, marketplace, listing_id, slot),
                brand_id=brand,
                marketplace=marketplace,
                query=listing_id,
                max_pages=1,
                created_at=now,
                reason="recheck",
            )
        )
    log.info("recheck: %d jobs for %d listings", len(jobs), len(wanted))
    return jobs


def apply_removals(store: Store, removals: list[Removal]) -> int:
    """Mark each listing removed at the time it was seen gone; returns how many the store knew."""
    marked = 0
    for removal in removals:
        if store.mark_removed(removal.key, removal.at) is not None:
            marked += 1
            log.info("listing %s marked removed at %s: %s", removal.key, removal.at.isoformat(), removal.reason)
        else:
            log.warning("listing %s seen gone (%s) but the store does not know it", removal.key, removal.reason)
    return marked
