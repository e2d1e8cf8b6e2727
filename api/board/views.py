"""The Board's routes: legal documents, announcements with read receipts, dashboard, exports, monthly report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from api.auth.enums import Scope
from api.auth.models import Principal
from api.board import announcements, documents, exports
from api.board.models import (
    MAX_BOARD_LIMIT,
    Announcement,
    AnnouncementIn,
    AnnouncementPage,
    Dashboard,
    Document,
    DocumentIn,
    DocumentPage,
    MonthlyReport,
    ReadReceipts,
)
from api.board.monthly import monthly
from api.board.stats import dashboard, day_range
from api.dates import QueryDay
from api.deps import PrincipalDep, StoreDep, requires
from api.problems import Problem
from kcnguard.records import CaseState
from kcnguard.records.base import Slug

router = APIRouter(prefix="/v1/board", tags=["board"])
exports_router = APIRouter(prefix="/v1/cases", tags=["board"])

BoardReader = Annotated[Principal, Depends(requires(Scope.BOARD_READ))]
DocWriter = Annotated[Principal, Depends(requires(Scope.DOCUMENTS_WRITE))]
AnnReader = Annotated[Principal, Depends(requires(Scope.ANNOUNCEMENTS_READ))]
AnnWriter = Annotated[Principal, Depends(requires(Scope.ANNOUNCEMENTS_WRITE))]
AnnouncementId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-z-]+$")]
# A dashboard or export over more than this is an archive job, not a page.
MAX_SPAN_DAYS = 731
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _span(since: date | None, until: date | None, default_days: int = 30) -> tuple[date, date]:
    end = until or date.today()
    start = since or end - timedelta(days=default_days - 1)
    if start > end or (end - start).days > MAX_SPAN_DAYS:
        raise Problem(
            422,
            "bad-period",
            f"Khoảng thời gian không hợp lệ: 'since' phải trước 'until' và cách nhau tối đa {MAX_SPAN_DAYS} ngày.",
            f"Invalid period: 'since' must come before 'until', at most {MAX_SPAN_DAYS} days apart.",
        )
    return start, end


@router.get("/documents", response_model=DocumentPage, summary="Legal documents enterprises must know")
def list_documents(store: StoreDep, _: PrincipalDep) -> DocumentPage:
    items = documents.list_documents(store)
    return DocumentPage(items=items, total=len(items))


@router.get("/documents/{doc_id}", response_model=Document, summary="One legal document")
def get_document(doc_id: Annotated[Slug, Path()], store: StoreDep, _: PrincipalDep) -> Document:
    return documents.get_document(store, doc_id)


@router.put("/documents/{doc_id}", response_model=Document, summary="Add or edit a legal document (admin)")
def put_document(doc_id: Annotated[Slug, Path()], body: DocumentIn, store: StoreDep, principal: DocWriter) -> Document:
    return documents.put_document(store, doc_id, body, principal.actor)


@router.get("/announcements", response_model=AnnouncementPage, summary="Announcements (an enterprise sees its own)")
def list_announcements(
    store: StoreDep,
    principal: AnnReader,
    limit: Annotated[int, Query(ge=1, le=MAX_BOARD_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000 - MAX_BOARD_LIMIT)] = 0,
) -> AnnouncementPage:
    items, total = announcements.list_for(store, principal, limit, offset)
    return AnnouncementPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/announcements",
    status_code=status.HTTP_201_CREATED,
    response_model=Announcement,
    summary="Publish an announcement to enterprises",
)
def publish(body: AnnouncementIn, store: StoreDep, principal: AnnWriter) -> Announcement:
    return announcements.publish(store, principal, body)


@router.get(
    "/announcements/{announcement_id}",
    response_model=Announcement,
    summary="Open an announcement (an enterprise's first opening is recorded as read)",
)
def open_announcement(announcement_id: AnnouncementId, store: StoreDep, principal: AnnReader) -> Announcement:
    return announcements.open_one(store, principal, announcement_id)


@router.get(
    "/announcements/{announcement_id}/reads",
    response_model=ReadReceipts,
    summary="Which enterprises have read an announcement, and which have not",
)
def reads(announcement_id: AnnouncementId, store: StoreDep, principal: BoardReader) -> ReadReceipts:
    return announcements.receipts(store, principal, announcement_id)


@router.get(
    "/dashboard", response_model=Dashboard, summary="Flagged and confirmed over time, by marketplace, brand, zone"
)
def get_dashboard(
    store: StoreDep,
    _: BoardReader,
    since: Annotated[QueryDay | None, Query(description="First day (default: 30 days ago)")] = None,
    until: Annotated[QueryDay | None, Query(description="Last day (default: today)")] = None,
    granularity: Annotated[Literal["day", "week"], Query()] = "day",
) -> Dashboard:
    start, end = _span(since, until)
    return dashboard(store, start, end, granularity)


@router.get("/reports/monthly", response_model=MonthlyReport, summary="The monthly report for the leadership")
def monthly_report(
    store: StoreDep,
    _: BoardReader,
    month: Annotated[str, Query(max_length=7, description="YYYY-MM", examples=["2026-03"])],
) -> MonthlyReport:
    return monthly(store, month)


@router.get(
    "/reports/monthly.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The monthly report as a workbook"}},
    summary="The monthly report as an Excel file",
)
def monthly_report_xlsx(
    store: StoreDep,
    _: BoardReader,
    month: Annotated[str, Query(max_length=7, description="YYYY-MM", examples=["2026-03"])],
) -> Response:
    body = exports.monthly_xlsx(monthly(store, month))
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="bao-cao-thang-{month}.xlsx"'}
    )


ExportSince = Annotated[QueryDay | None, Query(description="Cases changed from this day (default: 30 days ago)")]
ExportUntil = Annotated[QueryDay | None, Query(description="Cases changed up to this day (default: today)")]
ExportState = Annotated[CaseState | None, Query()]


@exports_router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM; formula cells neutralised"}},
    summary="Cases changed in a period, as CSV",
)
def export_csv(
    store: StoreDep, _: BoardReader, since: ExportSince = None, until: ExportUntil = None, state: ExportState = None
) -> StreamingResponse:
    start, end = day_range(*_span(since, until))
    rows = exports.case_rows(store, start, end, state)
    return StreamingResponse(
        exports.csv_chunks(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ho-so-{start:%Y%m%d}-{end:%Y%m%d}.csv"'},
    )


@exports_router.get(
    "/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "One sheet; formula cells neutralised"}},
    summary="Cases changed in a period, as XLSX",
)
def export_xlsx(
    store: StoreDep, _: BoardReader, since: ExportSince = None, until: ExportUntil = None, state: ExportState = None
) -> Response:
    start, end = day_range(*_span(since, until))
    body = exports.cases_xlsx(exports.case_rows(store, start, end, state))
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="ho-so-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'},
    )
