"""Receiving reports of suspect listings, and the inspectors' triage of them.

A report enters the review queue as an item with source=report and status new; inspectors
triage it (confirm, dismiss, ask for more, or mark it crawled once the listing is in the store).
Text from reporters is kept as plain text, control characters removed, and is only ever shown
escaped: nothing in it is interpreted.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import urlparse

from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.problems import Problem
from api.reports.models import Report, ReporterKind, ReportIn, TriageIn
from api.reports.store import reports
from kcnguard.cases import audit
from kcnguard.records.base import utcnow
from kcnguard.store import Query, Store

log = logging.getLogger(__name__)

# The marketplaces a URL's host names; the demo marketplace is served from anywhere, so not listed.
MARKETPLACE_HOSTS = {
    "shopee.vn": "shopee",
    "tiki.vn": "tiki",
    "lazada.vn": "lazada",
    "sendo.vn": "sendo",
    "tiktok.com": "tiktok",
    "chotot.com": "chotot",
}


def marketplace_of(url: str) -> str | None:
    host = (urlparse(url).hostname or "").lower()
    for domain, name in MARKETPLACE_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return name
    return None


def report_not_found(report_id: str) -> Problem:
    return Problem(404, "report-not-found", f"Không có báo cáo '{report_id}'.", f"No report '{report_id}'.")


def submit(store: Store, principal: Principal | None, body: ReportIn) -> Report:
    """Store a report; `principal` is None for an anonymous worker or consumer."""
    if body.reporter_kind is ReporterKind.ENTERPRISE and (principal is None or principal.role is not Role.ENTERPRISE):
        raise Problem(
            422,
            "reporter-kind",
            "Chỉ doanh nghiệp đã đăng nhập mới gửi báo cáo với reporter_kind 'enterprise'.",
            "Only a signed-in enterprise may send a report as reporter_kind 'enterprise'.",
        )
    if principal is not None and principal.role is Role.PARTNER:
        raise Problem(403, "forbidden", "Cơ quan đối tác không gửi báo cáo ở đây.", "Partners do not report here.")
    brand = store.get_brand(body.brand_id) if body.brand_id else None
    # An unknown brand id is kept as a hint, answered exactly like a known one: reports do not reveal brands.
    owner_id = brand.owner_id if brand else (principal.enterprise_id if principal else None)
    report = Report(
        report_id="rep-" + secrets.token_hex(8),
        url=body.url,
        marketplace=marketplace_of(body.url),
        note=body.note,
        brand_id=brand.brand_id if brand else None,
        brand_hint=None if brand or not body.brand_id else body.brand_id,
        owner_id=owner_id,
        reporter_kind=ReporterKind.ENTERPRISE
        if principal and principal.role is Role.ENTERPRISE
        else body.reporter_kind,
        reporter=principal.actor if principal else "anonymous",
        contact=body.contact,
        search_text=f"{body.note or ''} {body.url}",
    )
    reports(store).create(report)
    log.info("report %s received from %s about %s", report.report_id, report.reporter, report.marketplace or "?")
    return report


def list_reports(
    store: Store,
    principal: Principal,
    limit: int,
    offset: int,
    status: str | None = None,
    reporter_kind: str | None = None,
    brand_id: str | None = None,
    q: str | None = None,
) -> tuple[list[Report], int]:
    require_scope(principal, Scope.REPORTS_READ)
    filters: dict[str, Any] = {}
    if status:
        filters["status"] = status
    if reporter_kind:
        filters["reporter_kind"] = reporter_kind
    if brand_id:
        filters["brand_id"] = brand_id
    if principal.owner_bound:
        filters["owner_id"] = principal.owner_filter
    query = Query(filters=filters, text=q, sort=[("received_at", "desc")], size=limit, offset=offset)
    page = reports(store).search(query)
    return page.items, page.total


def get_report(store: Store, principal: Principal, report_id: str) -> Report:
    require_scope(principal, Scope.REPORTS_READ)
    report = reports(store).get(report_id) if len(report_id) <= 64 else None
    if report is None:
        raise report_not_found(report_id)
    if principal.owner_bound and report.owner_id != principal.owner_filter:
        raise report_not_found(report_id)
    return report


def triage(store: Store, principal: Principal, report_id: str, body: TriageIn) -> Report:
    require_scope(principal, Scope.REVIEW_DECIDE)
    current = reports(store).get_versioned(report_id) if len(report_id) <= 64 else None
    if current is None:
        raise report_not_found(report_id)
    before = current.record
    after = before.model_copy(
        update={
            "status": body.status,
            "triaged_by": principal.actor,
            "triaged_at": utcnow(),
            "triage_note": body.note,
            "listing_key": body.listing_key or before.listing_key,
        }
    )
    # Optimistic like cases: two inspectors triaging at once get a conflict, not a lost note.
    reports(store).put(after, if_version=current.version)
    audit.append(
        store,
        principal.actor,
        "report.triage",
        f"report:{report_id}",
        before={"status": before.status},
        after={"status": after.status, "listing_key": after.listing_key},
        note=body.note,
    )
    return after
