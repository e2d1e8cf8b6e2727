"""Inspectors' and enterprises' pages: the review queue, a listing's page, decisions one at a time or in bulk.

Everything is read and decided through api/review/service.py (and api/reports/service.py for
received reports), so tenancy and the audit trail are the API's own.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth.enums import Scope
from api.brands.service import brand_not_found
from api.dates import QueryDay
from api.lifecycle import StoreKeeper
from api.portal.params import (
    PAGE_SIZE,
    CsrfField,
    KeeperDep,
    LangField,
    NoteField,
    Notice,
    PageNumber,
    VersionField,
    form_lang,
    offset,
    pager,
)
from api.portal.rendering import LangDep, guarded, redirect, render, safe_next
from api.portal.service import brand_choices, brand_names
from api.portal.session import Signed
from api.problems import Problem
from api.reports.models import TriageIn
from api.reports.service import triage
from api.review.evidence import evidence_bytes
from api.review.models import MAX_BULK, Decision, DecisionResult, PageRequest, QueueFilters
from api.review.service import decide, listing_detail, queue
from kcnguard.evidence import open_evidence

log = logging.getLogger(__name__)

router = APIRouter()
STATUSES = ("new", "needs_info", "confirmed", "dismissed")
REPORT_PREFIX = "rep-"
# A decision on a received report is its triage status.
TRIAGE = {Decision.CONFIRM: "confirmed", Decision.DISMISS: "dismissed", Decision.NEEDS_INFO: "needs_info"}


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def _day_end(day: date | None) -> datetime | None:
    # The whole "to" day is included.
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) if day else None


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    page: PageNumber = 1,
    q: Annotated[str, Query(max_length=200)] = "",
    brand: Annotated[str, Query(max_length=64)] = "",
    marketplace: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(pattern="^(|new|needs_info|confirmed|dismissed)$")] = "",
    seller: Annotated[str, Query(max_length=128)] = "",
    date_from: Annotated[QueryDay | None, Query()] = None,
    date_to: Annotated[QueryDay | None, Query()] = None,
    notice: Notice = "",
) -> Response:
    def body(signed: Signed) -> Response:
        store, principal = keeper.store, signed.principal
        filters = QueueFilters(
            brand_id=brand.strip() or None,
            marketplace=marketplace.strip() or None,
            seller_id=seller.strip() or None,
            status=status or None,
            scored_from=_day_start(date_from),
            scored_to=_day_end(date_to),
            q=q.strip() or None,
        )
        choices = brand_choices(store, principal)
        if filters.brand_id and filters.brand_id not in {b.brand_id for b in choices}:
            # A brand the caller may not see answers like one that does not exist.
            raise brand_not_found(filters.brand_id)
        found = queue(store, principal, filters, PageRequest(PAGE_SIZE, offset(page)), lang)
        kept = {
            "lang": lang,
            "q": q,
            "brand": brand,
            "marketplace": marketplace,
            "status": status,
            "seller": seller,
            "date_from": date_from.isoformat() if date_from else "",
            "date_to": date_to.isoformat() if date_to else "",
        }
        return render(
            request,
            "queue.html",
            lang,
            signed,
            page=found,
            brands=choices,
            brand_names=brand_names(store, principal, [i.brand_id for i in found.items if i.brand_id]),
            filters=kept,
            statuses=STATUSES,
            **pager(page, found.total, kept),
            may_decide=principal.has(Scope.REVIEW_DECIDE),
            here=f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path,
            notice=notice,
        )

    return guarded(request, keeper, lang, body)


@router.get("/listings/{key:path}", response_class=HTMLResponse)
def listing_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    key: Annotated[str, Path(max_length=300)],
    notice: Notice = "",
) -> Response:
    def body(signed: Signed) -> Response:
        store, principal = keeper.store, signed.principal
        detail = listing_detail(store, principal, key, lang)
        names = brand_names(store, principal, [s.brand_id for s in detail.scores])
        versions = {c.case.brand_id: c for c in detail.cases}
        return render(
            request,
            "listing.html",
            lang,
            signed,
            d=detail,
            brand_names=names,
            case_of=versions,
            may_decide=principal.has(Scope.REVIEW_DECIDE),
            may_move_cases=principal.has(Scope.CASES_WRITE),
            evidence_query=urlencode({"listing": detail.key}),
            here=quote(request.url.path, safe="/:@"),
            notice=notice,
        )

    return guarded(request, keeper, lang, body)


@router.get("/evidence/{digest}")
def evidence_download(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    digest: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    listing: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    def body(signed: Signed) -> Response:
        settings = request.app.state.settings
        raw = evidence_bytes(keeper.store, open_evidence(settings), signed.principal, digest, listing or None)
        return evidence_response(raw, digest)

    return guarded(request, keeper, lang, body)


def evidence_response(raw: bytes, digest: str) -> Response:
    # A download, never rendered: the raw page is a marketplace's HTML and must not run here.
    return Response(
        raw,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{digest[:16]}.html.bin"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        },
    )


@router.post("/decide", response_class=HTMLResponse)
def decide_submit(
    request: Request,
    keeper: KeeperDep,
    keys: Annotated[list[str], Form(max_length=MAX_BULK)] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    decision: Annotated[str, Form(max_length=20)] = "",
    note: NoteField = "",
    version: VersionField = "",
    next: Annotated[str, Form(max_length=1000)] = "",
    csrf: CsrfField = "",
    lang: LangField = "vi",
) -> Response:
    chosen = form_lang(lang)

    def body(signed: Signed) -> Response:
        try:
            chosen_decision = Decision(decision)
        except ValueError:
            raise Problem(422, "bad-decision", "Hãy chọn một quyết định.", "Please choose a decision.") from None
        wanted = [k for k in dict.fromkeys(k.strip() for k in keys) if k]
        if not wanted:
            raise Problem(422, "no-keys", "Chưa chọn tin đăng nào.", "No listing was selected.")
        listing_keys = [k for k in wanted if not k.startswith(REPORT_PREFIX)]
        results: list[DecisionResult] = []
        if listing_keys:
            versions = {listing_keys[0]: version} if version and len(listing_keys) == 1 else None
            out = decide(
                keeper.store,
                signed.principal,
                listing_keys,
                chosen_decision,
                note.strip() or None,
                events=keeper.events,
                versions=versions,
            )
            results.extend(out.results)
        for report_id in (k for k in wanted if k.startswith(REPORT_PREFIX)):
            results.append(_triage(keeper, signed, report_id, chosen_decision, note))
        back = safe_next(next, "/portal/queue")
        if all(r.ok for r in results):
            return redirect(request, with_notice(back, chosen))
        worst = max((r.status for r in results if not r.ok), default=422)
        return render(request, "decided.html", chosen, signed, worst, results=results, back=back)

    return guarded(request, keeper, chosen, body, csrf=csrf, scope=Scope.REVIEW_DECIDE)


def with_notice(path: str, lang: str) -> str:
    """The page to return to, saying "saved" once (a previous notice is not carried along)."""
    where, _, query = path.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ("notice", "lang")]
    return f"{where}?{urlencode([*kept, ('lang', lang), ('notice', 'saved')])}"


def _triage(keeper: StoreKeeper, signed: Signed, report_id: str, decision: Decision, note: str) -> DecisionResult:
    """A received report in the queue: the decision becomes its triage status."""
    try:
        report = triage(
            keeper.store, signed.principal, report_id, TriageIn(status=TRIAGE[decision], note=note.strip() or None)
        )
    except Problem as problem:
        return DecisionResult(
            key=report_id, ok=False, status=problem.status, detail_vi=problem.vi, detail_en=problem.en
        )
    return DecisionResult(key=report_id, ok=True, status=200, review_status=report.status)
