"""The review queue, a listing's review page and decisions, within what the caller may see.

The portal calls these directly: queue(store, principal, filters, page), listing_detail(store,
principal, key), decide(store, principal, keys, decision, note). Tenancy is in the queries:
an enterprise's searches are narrowed to its own brands' ids, so lists, counts and search
never include another enterprise's listings; partners have no business here (403).
"""

from __future__ import annotations

import logging
from typing import Any

from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.brands.service import visible_brands
from api.cases.changes import commit_change
from api.listings.models import CaseRef, ReasonOut
from api.listings.service import listing_detail as stored_listing_detail
from api.listings.service import search_text
from api.problems import Problem
from api.reports.models import Report
from api.reports.store import reports
from api.review.models import (
    CaseOut,
    Decision,
    DecisionOut,
    DecisionResult,
    PageRequest,
    QueueFilters,
    QueueItem,
    QueuePage,
    ReviewDetail,
    SellerListing,
)
from kcnguard.cases.outbox import CaseEvents
from kcnguard.errors import ConflictError
from kcnguard.records import Case, InvalidTransition, ScoredListing
from kcnguard.records.case import REVIEW_STATUSES, CaseState
from kcnguard.records.listing import listing_key
from kcnguard.records.scoring import scored_key
from kcnguard.store import Query, Store, Versioned
from kcnguard.store.base import MAX_WINDOW

log = logging.getLogger(__name__)

# The seller's other listings shown on a listing's page.
SELLER_LISTINGS = 20
# Reasons shown per queue row; the listing page shows them all.
QUEUE_REASONS = 3
TEXT_COUNT_CAP = 1_000


def _own_brand_ids(store: Store, principal: Principal) -> list[str] | None:
    """An enterprise's brands that are watched (rights verified), or None meaning every brand.

    Staff need no narrowing: a brand nobody verified is neither crawled nor scored, so it has no queue rows.
    """
    own = visible_brands(store, principal)
    return None if own is None else [b.brand_id for b in own if b.monitored]


def _brand_filter(own: list[str] | None, brand_id: str | None) -> list[str] | str | None:
    """The brand ids to filter on: the one asked for if visible, else the caller's own; [] means nothing."""
    if brand_id:
        return brand_id if own is None or brand_id in own else []
    return own


def _crawl_query(filters: QueueFilters, brands: list[str] | str | None, size: int, offset: int) -> Query:
    wanted: dict[str, Any] = {"flagged": True}
    if brands is not None:
        wanted["brand_id"] = brands
    if filters.marketplace:
        wanted["marketplace"] = filters.marketplace
    if filters.seller_id:
        wanted["seller_id"] = filters.seller_id
    if filters.status:
        wanted["review_status"] = filters.status
    ranges = {}
    if filters.scored_from or filters.scored_to:
        ranges["scored_at"] = (filters.scored_from, filters.scored_to)
    return Query(
        filters=wanted,
        ranges=ranges,
        text=search_text(filters.q),
        sort=[("score", "desc")],
        size=size,
        offset=offset,
        # Nobody pages past MAX_WINDOW, and counting 300,000 flagged scores cost a second. A word search is
        # counted to TEXT_COUNT_CAP: "1,000+" says as much to an inspector, and finding 10,000 rows holding a
        # common word costs ten times more than finding 1,000.
        count_up_to=TEXT_COUNT_CAP if filters.q else MAX_WINDOW,
    )


def _report_query(
    filters: QueueFilters, principal: Principal, brands: list[str] | str | None, size: int, offset: int
) -> Query | None:
    if filters.seller_id:
        return None  # a report has no seller until the listing is crawled
    wanted: dict[str, Any] = {"status": filters.status or list(REVIEW_STATUSES)}
    if principal.owner_bound:
        # An enterprise sees the reports about its brands and the ones it sent itself.
        wanted["owner_id"] = principal.owner_filter
    if filters.brand_id:
        if brands == []:
            return None  # a brand this caller may not see: nothing, as for an unknown brand
        wanted["brand_id"] = filters.brand_id
    if filters.marketplace:
        wanted["marketplace"] = filters.marketplace
    ranges = {}
    if filters.scored_from or filters.scored_to:
        ranges["received_at"] = (filters.scored_from, filters.scored_to)
    return Query(
        filters=wanted,
        ranges=ranges,
        text=search_text(filters.q),
        sort=[("received_at", "desc")],
        size=size,
        offset=offset,
    )


def _listing_key_of(scored: dict[str, Any]) -> str:
    return listing_key(scored["listing"]["marketplace"], scored["listing"]["listing_id"])


def _crawl_item(body: dict[str, Any], key: str, status: str, case: CaseRef | None, lang: str) -> QueueItem:
    """A queue row read straight from a stored score. The store holds validated records only, and reading
    each back as a ScoredListing (its listing, seller and every reason checked again) cost more than the
    rest of a page; the row itself is still validated as a QueueItem. `key` is its listing's key."""
    listing = body["listing"]
    top = sorted(body.get("reasons") or [], key=lambda r: -abs(r["weight"]))[:QUEUE_REASONS]
    return QueueItem(
        source="crawl",
        key=scored_key(key, body["brand_id"]),
        listing_key=key,
        brand_id=body["brand_id"],
        score=body["score"],
        status=status,  # type: ignore[arg-type]
        title=listing["title"],
        url=listing["url"],
        marketplace=listing["marketplace"],
        seller=listing.get("seller"),
        price=listing.get("price"),
        currency=listing.get("currency"),
        at=body["scored_at"],
        reasons=[ReasonOut(code=r["code"], weight=r["weight"], text=r["en" if lang == "en" else "vi"]) for r in top],
        case=case,
    )


def _report_item(report: Report) -> QueueItem:
    return QueueItem(
        source="report",
        key=report.report_id,
        listing_key=report.listing_key,
        brand_id=report.brand_id,
        score=None,
        status=report.status,  # type: ignore[arg-type]
        title=report.note or report.url,
        url=report.url,
        marketplace=report.marketplace,
        seller=None,
        price=None,
        currency=None,
        at=report.received_at,
        report_id=report.report_id,
    )


def queue(store: Store, principal: Principal, filters: QueueFilters, page: PageRequest, lang: str = "vi") -> QueuePage:
    """Received reports waiting for triage first (newest first), then flagged listings by score, highest first."""
    require_scope(principal, Scope.LISTINGS_READ)
    if filters.status and filters.status not in REVIEW_STATUSES:
        raise Problem(
            422,
            "bad-status",
            f"Trạng thái '{filters.status}' không có; dùng: {', '.join(REVIEW_STATUSES)}.",
            f"No status '{filters.status}'; use one of: {', '.join(REVIEW_STATUSES)}.",
        )
    own = _own_brand_ids(store, principal)
    brands = _brand_filter(own, filters.brand_id)
    items: list[QueueItem] = []
    total = 0
    capped = False
    reports_total = 0
    if filters.source in ("all", "report"):
        report_q = _report_query(filters, principal, brands, 0, 0)
        if report_q is not None:
            reports_total = reports(store).count(report_q)
            if page.offset < reports_total:
                report_q.size, report_q.offset = page.limit, page.offset
                items.extend(_report_item(r) for r in reports(store).search(report_q).items)
        total += reports_total
    if filters.source in ("all", "crawl") and brands != []:
        want = page.limit - len(items)
        offset = max(0, page.offset - reports_total)
        scores = store.scored.search_bodies(_crawl_query(filters, brands, want, offset))
        total += scores.total
        capped = scores.total_capped
        # The case (read by id, so current) is the truth; the score's mirrored status only serves the filter.
        keys = [_listing_key_of(body) for body in scores.items]
        ids = [Case.make_id(key, body["brand_id"]) for key, body in zip(keys, scores.items, strict=True)]
        states = store.case_states(ids) if ids else {}
        for body, key, case_id in zip(scores.items, keys, ids, strict=True):
            found = states.get(case_id)
            status = found[1] if found else body.get("review_status") or "new"
            ref = CaseRef(case_id=case_id, state=found[0]) if found else None
            items.append(_crawl_item(body, key, status, ref, lang))
    return QueuePage(items=items, total=total, total_capped=capped, limit=page.limit, offset=page.offset, lang=lang)


def listing_detail(store: Store, principal: Principal, key: str, lang: str = "vi") -> ReviewDetail:
    """A listing with its reasons, price and sold history, seller and the seller's other listings, cases, evidence."""
    require_scope(principal, Scope.LISTINGS_READ)
    base = stored_listing_detail(store, principal, key, lang)  # 404 for a listing the caller may not see
    own = _own_brand_ids(store, principal)
    case_ids = [Case.make_id(key, s.brand_id) for s in base.scores]
    cases = store.get_cases(case_ids) if case_ids else {}
    seller = base.listing.seller
    seller_items: list[SellerListing] = []
    seller_total = 0
    if seller.id:
        if own is None:
            query = Query(
                filters={"marketplace": base.listing.marketplace, "seller_id": seller.id},
                sort=[("last_seen_at", "desc")],
                size=SELLER_LISTINGS + 1,
            )
            page = store.search_listings(query)
            others = [s for s in page.items if s.key != key][:SELLER_LISTINGS]
            seller_total = page.total - (1 if len(others) < len(page.items) else 0)
            seller_items = [
                SellerListing(
                    listing_key=s.key,
                    title=s.listing.title,
                    url=s.listing.url,
                    price=s.listing.price,
                    status=s.status,
                    last_seen_at=s.last_seen_at,
                )
                for s in others
            ]
        else:
            # An enterprise sees only those of the seller's listings flagged for its own brands: the ones
            # whose pages it may open (listing_detail's rule).
            query = Query(
                filters={
                    "marketplace": base.listing.marketplace,
                    "seller_id": seller.id,
                    "brand_id": own or ["-"],
                    "flagged": True,
                },
                sort=[("scored_at", "desc")],
                size=SELLER_LISTINGS + 1,
            )
            page = store.search_scored(query)
            seen: dict[str, SellerListing] = {}
            for s in page.items:
                if s.listing.key != key and s.listing.key not in seen:
                    seen[s.listing.key] = SellerListing(
                        listing_key=s.listing.key,
                        title=s.listing.title,
                        url=s.listing.url,
                        price=s.listing.price,
                        status="active",
                        last_seen_at=s.listing.captured_at,
                    )
            seller_items = list(seen.values())[:SELLER_LISTINGS]
            seller_total = len(seller_items)
    return ReviewDetail(
        **base.model_dump(),
        evidence_url=f"/v1/evidence/{base.listing.evidence_digest}?listing={key}",
        seller_listings=seller_items,
        seller_listings_total=seller_total,
        cases=[case_out(v) for v in cases.values()],
    )


def case_out(versioned: Versioned[Case]) -> CaseOut:
    return CaseOut(case=versioned.record, version=versioned.version, review_status=versioned.record.review_status)  # type: ignore[arg-type]


def _result(key: str, status: int, vi: str, en: str, case: Versioned[Case] | None = None) -> DecisionResult:
    return DecisionResult(
        key=key,
        ok=False,
        status=status,
        case_id=case.record.case_id if case else None,
        state=str(case.record.state) if case else None,
        detail_vi=vi,
        detail_en=en,
    )


def _targets(store: Store, own: list[str] | None, key: str) -> list[ScoredListing]:
    """The flagged (listing, brand) pairs a decision key names, within the caller's brands."""
    if "|" in key:
        listing_key, _, brand_id = key.rpartition("|")
        if own is not None and brand_id not in own:
            return []
        scored = store.get_scored(listing_key, brand_id)
        return [scored] if scored is not None and scored.flagged else []
    filters: dict[str, Any] = {"listing_key": key, "flagged": True}
    if own is not None:
        filters["brand_id"] = own or ["-"]
    return store.search_scored(Query(filters=filters, sort=[("score", "desc")], size=50)).items


def _apply(case: Case, decision: Decision, actor: str, note: str | None) -> Case:
    if decision is Decision.CONFIRM:
        if case.state is CaseState.DISMISSED:
            # An inspector changing their mind: reopened and confirmed, both steps kept.
            case = case.transition(CaseState.OPEN, actor, "reopened to confirm")
        return case.transition(CaseState.CONFIRMED, actor, note)
    if decision is Decision.DISMISS:
        return case.transition(CaseState.DISMISSED, actor, note)
    return case.request_info(actor, note)


_ALREADY = {Decision.CONFIRM: "confirmed", Decision.DISMISS: "dismissed"}


def _decide_one(
    store: Store,
    principal: Principal,
    key: str,
    scored: ScoredListing,
    decision: Decision,
    note: str | None,
    expected_version: str | None,
    events: CaseEvents | None,
) -> DecisionResult:
    case_id = Case.make_id(scored.listing.key, scored.brand_id)
    current = store.get_case(case_id)
    if current is None:
        # Flagged before cases existed, or the classifier's case write is still on its way.
        current, _ = store.open_case(
            Case.open_for(scored.listing.key, scored.brand_id, scored.score, actor=principal.actor, note="review")
        )
    if expected_version is not None and expected_version != current.version:
        return _result(
            key,
            409,
            "Hồ sơ vừa được người khác thay đổi; hãy tải lại trang.",
            "The case was changed by someone else meanwhile; reload the page.",
            current,
        )
    if _ALREADY.get(decision) == current.record.review_status and not (
        decision is Decision.CONFIRM and current.record.state is CaseState.DISMISSED
    ):
        return DecisionResult(
            key=key,
            ok=True,
            status=200,
            case_id=case_id,
            state=str(current.record.state),
            review_status=current.record.review_status,
            version=current.version,
            detail_vi="Không đổi: đã ở trạng thái này.",
            detail_en="Unchanged: already in that state.",
        )
    try:
        changed = _apply(current.record, decision, principal.actor, note)
    except InvalidTransition as exc:
        return _result(
            key,
            422,
            f"Không thể '{decision}' hồ sơ đang ở trạng thái '{current.record.state}'.",
            f"Cannot '{decision}' a case in state '{current.record.state}': {exc}.",
            current,
        )
    kind = "info_requested" if decision is Decision.NEEDS_INFO else "transitioned"
    try:
        saved = commit_change(store, principal, current, changed, f"review.{decision}", kind, note, events)
    except ConflictError:
        return _result(
            key,
            409,
            "Hồ sơ vừa được người khác thay đổi; hãy tải lại và quyết định lại.",
            "The case was changed by someone else meanwhile; reload and decide again.",
            current,
        )
    return DecisionResult(
        key=key,
        ok=True,
        status=200,
        case_id=case_id,
        state=str(saved.record.state),
        review_status=saved.record.review_status,
        version=saved.version,
    )


def decide(
    store: Store,
    principal: Principal,
    keys: list[str],
    decision: Decision | str,
    note: str | None = None,
    events: CaseEvents | None = None,
    versions: dict[str, str] | None = None,
) -> DecisionOut:
    """Confirm, dismiss or ask for more on each key; one result per key, a conflict on one never stops the rest.

    `events` is the app's publisher (request.app.state.keeper.events); without it the events go
    straight to the outbox, which the API's publisher drains.
    """
    require_scope(principal, Scope.REVIEW_DECIDE)
    decision = Decision(decision)
    own = _own_brand_ids(store, principal)
    results: list[DecisionResult] = []
    for key in dict.fromkeys(keys):
        targets = _targets(store, own, key) if 0 < len(key) <= 400 else []
        if not targets:
            results.append(
                _result(
                    key,
                    404,
                    f"Không có tin đăng bị gắn cờ '{key}' (hoặc tài khoản này không được xem).",
                    f"No flagged listing '{key}' (or this account may not see it).",
                )
            )
            continue
        for scored in targets:
            expected = (versions or {}).get(key)
            results.append(_decide_one(store, principal, scored.key, scored, decision, note, expected, events))
    done = sum(1 for r in results if r.ok)
    failed = len(results) - done
    log.info("%s decided %s on %d keys: %d done, %d failed", principal.actor, decision, len(keys), done, failed)
    return DecisionOut(results=results, done=done, failed=failed)
