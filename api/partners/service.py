"""What a partner agency may do with the cases referred to it: pull, read, acknowledge, report actions.

Tenancy: every query is narrowed to the caller's agency (`agencies` contains it), so another
agency's case is a 404, absent from pages, and never counted. A partner sees only its own
referral of a case, not the other agencies' receipts and actions.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import quote

from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.cases.changes import check_version, commit_change, require_version, stale_as_409
from api.partners import cursor
from api.partners.models import (
    BrandIp,
    EvidenceRef,
    ListingInfo,
    PartnerCaseDetail,
    PartnerCasePage,
    PartnerCaseSummary,
    SellerInfo,
    TrademarkInfo,
)
from api.problems import Problem
from kcnguard.cases.outbox import CaseEvents
from kcnguard.errors import NotFound
from kcnguard.evidence import open_evidence
from kcnguard.records import Case, InvalidTransition, PartnerAction, StoredListing, utcnow
from kcnguard.settings import Settings
from kcnguard.store import Query, Store, Versioned
from kcnguard.store.checked import date_value

log = logging.getLogger(__name__)

# Rows read per round trip while skipping those at or before the cursor.
FETCH_SLACK = 20


def not_found(case_id: str) -> Problem:
    return Problem(
        404,
        "case-not-found",
        f"Không có hồ sơ '{case_id[:128]}' được chuyển cho cơ quan này.",
        f"No case '{case_id[:128]}' referred to this agency.",
    )


def _agency(principal: Principal) -> str:
    require_scope(principal, Scope.PARTNER_CASES)
    if principal.role is not Role.PARTNER or not principal.agency:
        raise Problem(
            403,
            "partner-only",
            "Chỉ khóa của cơ quan đối tác (vai trò partner, có mã cơ quan) dùng được API này.",
            "Only a partner agency's key (role partner, with its agency slug) can use this API.",
        )
    return principal.agency


def summary(versioned: Versioned[Case], agency: str) -> PartnerCaseSummary:
    case = versioned.record
    return PartnerCaseSummary(
        case_id=case.case_id,
        state=case.state,
        brand_id=case.brand_id,
        listing_key=case.listing_key,
        score=case.score,
        referral=case.referral(agency),
        updated_at=case.updated_at,
        version=versioned.version,
    )


def pull(
    store: Store,
    principal: Principal,
    secret: str,
    limit: int,
    updated_after: str | None = None,
    after: str | None = None,
) -> PartnerCasePage:
    """The next page of cases referred to the caller, by (updated_at, case_id), after a cursor or a time."""
    agency = _agency(principal)
    if after:
        position = cursor.decode(after, agency, secret)
    elif updated_after:
        # Strictly after the given time: the empty id sorts before every case id at that instant.
        position = cursor.Position(date_value(updated_after), "\uffff")
    else:
        position = cursor.Position("1970-01-01T00:00:00.000Z", "")
    # A pull stops as far short of now as the store takes to show writes to search, so a case written just
    # before a newer one cannot appear after the partner's cursor has passed it.
    settle = store.capabilities.search_visible_after_seconds
    until = date_value(utcnow() - timedelta(seconds=settle)) if settle else None
    items: list[PartnerCaseSummary] = []
    offset, more = 0, False
    size = limit + FETCH_SLACK
    while True:
        query = Query(
            filters={"agencies": agency},
            ranges={"updated_at": (position.updated_at, until)},
            sort=[("updated_at", "asc")],
            size=size,
            offset=offset,
            count=False,  # a keyset page needs no total, and counting every later case is what costs
        )
        # Only the cases that go on the page are validated: a page reads FETCH_SLACK rows beyond it.
        page = store.cases.search_versioned_bodies(query)
        for found in page.items:
            body = found.record
            at = cursor.Position(date_value(body["updated_at"]), body["case_id"])
            if at <= position or agency not in body["agencies"]:
                continue
            if len(items) == limit:
                more = True
                break
            items.append(summary(Versioned(store.cases.load(body), found.version), agency))
        offset += len(page.items)
        if more or len(page.items) < size:
            break
    last = items[-1] if items else None
    next_position = cursor.Position(date_value(last.updated_at), last.case_id) if last else position
    # Always a cursor, even for an empty page: keeping it is how a partner asks "what changed since".
    return PartnerCasePage(items=items, next_cursor=cursor.encode(next_position, agency, secret), has_more=more)


def list_referred(
    store: Store, principal: Principal, limit: int, offset: int, state: str | None = None
) -> tuple[list[PartnerCaseSummary], int]:
    """A page of the cases referred to the caller, newest change first, each with this agency's referral only."""
    agency = _agency(principal)
    filters: dict[str, str] = {"agencies": agency}
    if state:
        filters["state"] = state
    query = Query(filters=filters, sort=[("updated_at", "desc")], size=limit, offset=offset)
    page = store.cases.search_versioned(query)
    return [summary(v, agency) for v in page.items], page.total


def get_referred(store: Store, principal: Principal, case_id: str) -> Versioned[Case]:
    agency = _agency(principal)
    found = store.get_case(case_id) if len(case_id) <= 128 else None
    if found is None or agency not in found.record.agencies:
        raise not_found(case_id)
    return found


def _evidence(stored: StoredListing, case_id: str) -> list[EvidenceRef]:
    # Partners download through their own route, which checks the case is theirs (they cannot read listings).
    seen: dict[str, EvidenceRef] = {}
    base = f"/v1/partner/cases/{quote(case_id, safe='')}/evidence"
    for obs in (*stored.history, stored.listing):  # past observations, then the page as now read
        seen.setdefault(
            obs.evidence_digest,
            EvidenceRef(
                digest=obs.evidence_digest,
                captured_at=obs.captured_at,
                price=obs.price,
                sold_count=obs.sold_count,
                url=f"{base}/{obs.evidence_digest}",
            ),
        )
    return sorted(seen.values(), key=lambda e: e.captured_at)


def detail(store: Store, principal: Principal, case_id: str) -> PartnerCaseDetail:
    versioned = get_referred(store, principal, case_id)
    agency = _agency(principal)
    case = versioned.record
    stored = store.get_listing(case.listing_key)
    listing = None
    evidence: list[EvidenceRef] = []
    if stored is not None:
        s = stored.record
        listing = ListingInfo(
            key=s.key,
            marketplace=s.listing.marketplace,
            title=s.listing.title,
            url=str(s.listing.url),
            price=s.listing.price,
            currency=s.listing.currency,
            seller_id=s.listing.seller.id,
            seller_name=s.listing.seller.name,
            status=s.status,
            first_seen_at=s.first_seen_at,
            last_seen_at=s.last_seen_at,
        )
        evidence = _evidence(s, case.case_id)
    brand = store.get_brand(case.brand_id)
    brand_ip = (
        BrandIp(
            brand_id=brand.brand_id,
            name=brand.name,
            owner_id=brand.owner_id,
            owner_name=brand.owner_name,
            trademarks=[
                TrademarkInfo(number=t.number, office=t.office, nice_classes=t.nice_classes, expires_on=t.expires_on)
                for t in brand.trademarks
            ],
            official_sellers=[
                SellerInfo(marketplace=o.marketplace, seller_id=o.seller_id, seller_name=o.seller_name, kind=o.kind)
                for o in brand.official_sellers
            ],
        )
        if brand
        else None
    )
    return PartnerCaseDetail(
        **summary(versioned, agency).model_dump(), listing=listing, evidence=evidence, brand=brand_ip
    )


def case_evidence(store: Store, settings: Settings, principal: Principal, case_id: str, digest: str) -> bytes:
    """A raw page captured for one of the partner's cases; NotFound for a digest that is not the case's
    (the caller words the 404 for its own audience) or that the evidence store lacks."""
    if digest not in evidence_digests(store, principal, case_id):
        raise NotFound(f"case {case_id} has no evidence {digest}")
    # Opened only for a digest the partner may have: no evidence-store client for a refused one.
    return open_evidence(settings).get(digest)


def evidence_digests(store: Store, principal: Principal, case_id: str) -> set[str]:
    """The digests a partner may download for one of its cases."""
    case = get_referred(store, principal, case_id).record
    stored = store.get_listing(case.listing_key)
    if stored is None:
        return set()
    return {stored.record.listing.evidence_digest, *(o.evidence_digest for o in stored.record.history)}


def acknowledge(
    store: Store, principal: Principal, case_id: str, version: str | None, events: CaseEvents | None = None
) -> PartnerCaseSummary:
    agency = _agency(principal)
    expected = require_version(version)
    current = get_referred(store, principal, case_id)
    if current.record.referral(agency).acknowledged_at is not None:
        return summary(current, agency)  # a repeated receipt changes nothing and needs no fresh version
    check_version(current, expected)
    changed = current.record.acknowledge(agency, principal.actor)
    with stale_as_409(store, current):
        saved = commit_change(store, principal, current, changed, "case.acknowledge", "acknowledged", None, events)
    log.info("case %s acknowledged by %s", case_id, principal.actor)
    return summary(saved, agency)


def report_action(
    store: Store,
    principal: Principal,
    case_id: str,
    action: PartnerAction,
    version: str | None,
    events: CaseEvents | None = None,
) -> PartnerCaseSummary:
    agency = _agency(principal)
    expected = require_version(version)
    current = get_referred(store, principal, case_id)
    check_version(current, expected)
    try:
        changed = current.record.report_action(agency, action)
    except InvalidTransition as exc:
        raise Problem(
            422,
            "invalid-transition",
            f"Không thể ghi nhận xử lý cho hồ sơ ở trạng thái '{current.record.state}': {exc}.",
            f"Cannot record an action on a case in state '{current.record.state}': {exc}.",
        ) from None
    note = f"{action.kind} {action.document_number or ''} {action.note or ''}".strip()
    with stale_as_409(store, current):
        saved = commit_change(
            store, principal, current, changed, f"case.action.{action.kind}", "actioned", note, events
        )
    log.info("case %s: %s reported %s", case_id, principal.actor, action.kind)
    return summary(saved, agency)
