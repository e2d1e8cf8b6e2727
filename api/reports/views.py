"""Report routes: anyone may send one (rate-limited per address when anonymous); inspectors list and triage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status

from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import authenticate, key_from_headers
from api.deps import StoreDep, requires
from api.listings.service import search_text
from api.pages import MAX_LIMIT, MAX_OFFSET
from api.problems import Problem
from api.reports import service
from api.reports.models import Report, ReporterKind, ReportIn, ReportPage, ReportReceipt, ReportStatus, TriageIn
from api.throttle import SlidingWindow
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Reader = Annotated[Principal, Depends(requires(Scope.REPORTS_READ))]
Decider = Annotated[Principal, Depends(requires(Scope.REVIEW_DECIDE))]
ReportIdPath = Annotated[str, Path(min_length=1, max_length=64)]

# Anonymous senders: 5 reports per address per 10 minutes, 300 in all per 10 minutes.
ANONYMOUS_PER_ADDRESS = 5
ANONYMOUS_OVERALL = 300
WINDOW_SECONDS = 600.0


def _throttle(request: Request) -> SlidingWindow:
    state = request.app.state
    if not hasattr(state, "report_throttle"):
        state.report_throttle = SlidingWindow(ANONYMOUS_PER_ADDRESS, ANONYMOUS_OVERALL, WINDOW_SECONDS)
    return state.report_throttle


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportReceipt,
    summary="Report a suspect listing (no key needed; enterprises send their key)",
)
def send_report(
    body: ReportIn,
    request: Request,
    store: StoreDep,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> ReportReceipt:
    raw = key_from_headers(x_api_key, authorization)
    principal = authenticate(store, raw) if raw else None  # a bad key is a 401, not a silent anonymous report
    if principal is None:
        address = request.client.host if request.client else "unknown"
        wait = _throttle(request).allow(address)
        if wait:
            raise Problem(
                429,
                "too-many-reports",
                "Bạn đã gửi nhiều báo cáo trong thời gian ngắn; hãy thử lại sau ít phút.",
                "Too many reports from this address in a short time; try again in a few minutes.",
                headers={"Retry-After": str(int(wait) + 1)},
            )
    report = service.submit(store, principal, body)
    return ReportReceipt(
        report_id=report.report_id,
        status=report.status,
        received_at=report.received_at,
        message_vi="Đã nhận báo cáo; thanh tra viên sẽ xem xét. Cảm ơn bạn.",
        message_en="Report received; an inspector will review it. Thank you.",
    )


@router.get("", response_model=ReportPage, summary="Received reports, newest first (inspectors)")
def list_reports(
    store: StoreDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    status: Annotated[ReportStatus | None, Query()] = None,
    reporter_kind: Annotated[ReporterKind | None, Query()] = None,
    brand_id: Annotated[Slug | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> ReportPage:
    items, total = service.list_reports(
        store, principal, limit, offset, status, reporter_kind, brand_id, search_text(q)
    )
    return ReportPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{report_id}", response_model=Report, summary="One report")
def get_report(report_id: ReportIdPath, store: StoreDep, principal: Reader) -> Report:
    return service.get_report(store, principal, report_id)


@router.post("/{report_id}/triage", response_model=Report, summary="Set a report's status, with a note")
def triage(report_id: ReportIdPath, body: TriageIn, store: StoreDep, principal: Decider) -> Report:
    return service.triage(store, principal, report_id, body)
