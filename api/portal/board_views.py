"""The Board's portal pages: legal documents, announcements (read receipts), dashboard, monthly report.

Server-rendered with the portal's helpers (sign-in cookie, escaping, security headers); charts are
inline SVG drawn from api/board/charts.py, so the pages run no script and load nothing from outside.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.board import announcements, documents, exports
from api.board.charts import counts_chart, series_chart
from api.board.monthly import monthly
from api.board.stats import dashboard
from api.board.views import XLSX
from api.dates import QueryDay
from api.i18n import Lang, lang_param
from api.lifecycle import StoreKeeper
from api.portal.params import KeeperDep
from api.portal.rendering import guarded, render
from api.portal.session import Signed

log = logging.getLogger(__name__)

router = APIRouter(prefix="/portal/board", tags=["portal"], include_in_schema=False)
LangDep = Annotated[Lang, Depends(lang_param)]

BOARD_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "documents": "Văn bản pháp lý",
        "documents_help": "Các văn bản doanh nghiệp trong KCN cần nắm; Ban Quản lý cập nhật nội dung.",
        "number": "Số hiệu",
        "issuer": "Cơ quan ban hành",
        "issued_on": "Ngày ban hành",
        "source": "Nguồn",
        "announcements": "Thông báo của Ban Quản lý",
        "no_announcements": "Chưa có thông báo nào.",
        "published": "Ngày gửi",
        "read": "Đã đọc",
        "unread": "Chưa đọc",
        "read_by": "Doanh nghiệp đã đọc",
        "unread_by": "Doanh nghiệp chưa đọc",
        "dashboard": "Bảng điều khiển",
        "since": "Từ ngày",
        "until": "Đến ngày",
        "show": "Xem",
        "over_time": "Gắn cờ và xác nhận theo thời gian",
        "by_marketplace": "Theo sàn",
        "by_brand": "Theo nhãn hiệu",
        "by_zone": "Theo KCN",
        "flagged": "Gắn cờ",
        "confirmed": "Xác nhận",
        "referred": "Chuyển cơ quan",
        "actioned": "Đã xử lý",
        "dismissed": "Loại bỏ",
        "closed": "Đóng",
        "flag_to_action": "Thời gian từ gắn cờ đến xử lý",
        "median": "Trung vị",
        "p90": "90% hồ sơ trong vòng",
        "hours": "giờ",
        "no_data": "Không có dữ liệu trong khoảng này.",
        "truncated": "Quá nhiều hồ sơ: số liệu chỉ tính trên phần đầu; hãy thu hẹp khoảng thời gian.",
        "monthly": "Báo cáo tháng",
        "month": "Tháng",
        "download_xlsx": "Tải tệp Excel",
        "export_csv": "Xuất hồ sơ (CSV)",
        "reports_received": "Phản ánh nhận được",
        "announcements_sent": "Thông báo đã gửi",
        "top_sellers": "Người bán có nhiều hồ sơ nhất",
        "marketplace": "Sàn",
        "seller": "Người bán",
        "cases": "Hồ sơ",
        "bad_month": "Tháng không hợp lệ; dùng dạng YYYY-MM.",
    },
    "en": {
        "documents": "Legal documents",
        "documents_help": "Documents the zones' enterprises should know; the Board keeps them up to date.",
        "number": "Number",
        "issuer": "Issued by",
        "issued_on": "Issued on",
        "source": "Source",
        "announcements": "Announcements from the Board",
        "no_announcements": "No announcements yet.",
        "published": "Sent",
        "read": "Read",
        "unread": "Unread",
        "read_by": "Enterprises that have read it",
        "unread_by": "Enterprises that have not",
        "dashboard": "Dashboard",
        "since": "From",
        "until": "To",
        "show": "Show",
        "over_time": "Flagged and confirmed over time",
        "by_marketplace": "By marketplace",
        "by_brand": "By brand",
        "by_zone": "By zone",
        "flagged": "Flagged",
        "confirmed": "Confirmed",
        "referred": "Referred",
        "actioned": "Actioned",
        "dismissed": "Dismissed",
        "closed": "Closed",
        "flag_to_action": "Time from flag to action",
        "median": "Median",
        "p90": "90% of cases within",
        "hours": "hours",
        "no_data": "No data in this period.",
        "truncated": "Too many cases: figures cover the first part only; narrow the period.",
        "monthly": "Monthly report",
        "month": "Month",
        "download_xlsx": "Download Excel file",
        "export_csv": "Export cases (CSV)",
        "reports_received": "Reports received",
        "announcements_sent": "Announcements sent",
        "top_sellers": "Sellers with the most cases",
        "marketplace": "Marketplace",
        "seller": "Seller",
        "cases": "Cases",
        "bad_month": "Invalid month; use YYYY-MM.",
    },
}


def _page(
    request: Request,
    keeper: StoreKeeper,
    lang: Lang,
    scope: Scope | None,
    build: Callable[[Principal], dict[str, Any] | Response],
    template: str,
) -> Response:
    """The portal's guard (store ready, signed in, scope, problems as error pages), then render `template`."""

    def page(signed: Signed) -> Response:
        context = build(signed.principal)
        if isinstance(context, Response):
            return context
        return render(request, template, lang, signed, bt=BOARD_TEXTS[lang], **context)

    return guarded(request, keeper, lang, page, scope=scope)


@router.get("/documents")
def documents_page(request: Request, keeper: KeeperDep, lang: LangDep) -> Response:
    return _page(
        request,
        keeper,
        lang,
        None,
        lambda _p: {"documents": documents.list_documents(keeper.store)},
        "board_documents.html",
    )


@router.get("/announcements")
def announcements_page(
    request: Request, keeper: KeeperDep, lang: LangDep, page: Annotated[int, Query(ge=1, le=100)] = 1
) -> Response:
    def build(principal: Principal) -> dict[str, Any]:
        items, total = announcements.list_for(keeper.store, principal, 20, (page - 1) * 20)
        return {"items": items, "total": total, "is_enterprise": principal.role is Role.ENTERPRISE}

    return _page(request, keeper, lang, Scope.ANNOUNCEMENTS_READ, build, "board_announcements.html")


@router.get("/announcements/{announcement_id}")
def announcement_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    announcement_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9a-z-]+$")],
) -> Response:
    def build(principal: Principal) -> dict[str, Any]:
        item = announcements.open_one(keeper.store, principal, announcement_id)
        receipts = (
            announcements.receipts(keeper.store, principal, announcement_id)
            if principal.has(Scope.BOARD_READ)
            else None
        )
        return {"item": item, "receipts": receipts}

    return _page(request, keeper, lang, Scope.ANNOUNCEMENTS_READ, build, "board_announcement.html")


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    keeper: KeeperDep,
    lang: LangDep,
    since: Annotated[QueryDay | None, Query()] = None,
    until: Annotated[QueryDay | None, Query()] = None,
) -> Response:
    def build(_principal: Principal) -> dict[str, Any]:
        end = until or date.today()
        start = since or end - timedelta(days=29)
        if start > end or (end - start).days > 731:
            start = end - timedelta(days=29)
        board = dashboard(keeper.store, start, end, "week" if (end - start).days > 62 else "day")
        return {
            "board": board,
            "series": series_chart(board.series),
            "markets": counts_chart(board.by_marketplace),
            "brands": counts_chart(board.by_brand),
            "zones": counts_chart(board.by_zone),
        }

    return _page(request, keeper, lang, Scope.BOARD_READ, build, "board_dashboard.html")


def _month(month: str) -> str:
    return month or (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@router.get("/monthly")
def monthly_page(
    request: Request, keeper: KeeperDep, lang: LangDep, month: Annotated[str, Query(max_length=7)] = ""
) -> Response:
    def build(_principal: Principal) -> dict[str, Any]:
        report = monthly(keeper.store, _month(month))
        return {"report": report, "series": series_chart(report.dashboard.series)}

    return _page(request, keeper, lang, Scope.BOARD_READ, build, "board_monthly.html")


@router.get("/monthly.xlsx")
def monthly_download(
    request: Request, keeper: KeeperDep, lang: LangDep, month: Annotated[str, Query(max_length=7)] = ""
) -> Response:
    def build(_principal: Principal) -> Response:
        chosen = _month(month)
        body = exports.monthly_xlsx(monthly(keeper.store, chosen))
        return Response(
            body,
            media_type=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="bao-cao-thang-{chosen}.xlsx"',
                "Cache-Control": "no-store",
            },
        )

    return _page(request, keeper, lang, Scope.BOARD_READ, build, "")
