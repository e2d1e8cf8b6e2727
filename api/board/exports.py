"""Cases as CSV and XLSX for the Board, and the monthly report as a workbook.

Spreadsheet programs run a cell that starts with = + - @ (or a tab / carriage return) as a
formula, so a listing title like `=HYPERLINK(...)` from a marketplace could run on an
inspector's machine: such cells are written with a leading apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from api.board.models import MonthlyReport
from api.board.stats import CaseTimes, scan_case_bodies, zones_by_brand
from kcnguard.records import Case, CaseState
from kcnguard.store import Store

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# One export is at most this many cases; beyond that, narrow the dates.
MAX_EXPORT_ROWS = 100_000
BATCH = 500

COLUMNS = [
    ("case_id", "Mã hồ sơ / Case"),
    ("state", "Trạng thái / State"),
    ("brand_id", "Nhãn hiệu / Brand"),
    ("owner", "Doanh nghiệp / Enterprise"),
    ("zone", "KCN / Zone"),
    ("marketplace", "Sàn / Marketplace"),
    ("title", "Tiêu đề tin / Listing title"),
    ("url", "Đường dẫn / URL"),
    ("price", "Giá (VND) / Price"),
    ("seller", "Người bán / Seller"),
    ("score", "Điểm / Score"),
    ("agencies", "Cơ quan / Agencies"),
    ("flagged_at", "Gắn cờ / Flagged"),
    ("confirmed_at", "Xác nhận / Confirmed"),
    ("actioned_at", "Xử lý / Actioned"),
    ("updated_at", "Cập nhật / Updated"),
]


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def case_rows(store: Store, since: datetime, until: datetime, state: str | None = None) -> Iterator[dict[str, Any]]:
    """One row per case changed in [since, until), with its listing and brand, read in batches."""
    filters = {"state": state} if state else {}
    batch: list[tuple[Case, CaseTimes]] = []
    for count, body in enumerate(scan_case_bodies(store, since, filters)):
        case = Case.model_validate(body)
        if case.updated_at >= until or count >= MAX_EXPORT_ROWS:
            break
        batch.append((case, CaseTimes.of(body)))
        if len(batch) == BATCH:
            yield from _rows(store, batch)
            batch = []
    if batch:
        yield from _rows(store, batch)


def _rows(store: Store, cases: list[tuple[Case, CaseTimes]]) -> Iterator[dict[str, Any]]:
    listings = store.listings.get_bodies([c.listing_key for c, _ in cases])
    brand_ids = {c.brand_id for c, _ in cases}
    brands = store.brands.get_bodies(sorted(brand_ids))
    zones = zones_by_brand(store, brand_ids)
    for case, times in cases:
        listing = listings[case.listing_key]["listing"] if case.listing_key in listings else {}
        brand = brands.get(case.brand_id, {})
        seller = listing.get("seller") or {}
        yield {
            "case_id": case.case_id,
            "state": str(case.state),
            "brand_id": case.brand_id,
            "owner": brand.get("owner_name", ""),
            "zone": zones.get(case.brand_id, ""),
            "marketplace": times.marketplace,
            "title": listing.get("title", ""),
            "url": listing.get("url", ""),
            "price": listing.get("price"),
            "seller": seller.get("name") or seller.get("id") or "",
            "score": round(case.score, 3),
            "agencies": ", ".join(case.agencies),
            "flagged_at": _time(case.created_at),
            "confirmed_at": _time(times.first.get(CaseState.CONFIRMED.value)),
            "actioned_at": _time(times.acted_at),
            "updated_at": _time(case.updated_at),
        }


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV text in pieces (streamed), with a BOM so spreadsheet programs read the Vietnamese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([label for _, label in COLUMNS])
    for n, row in enumerate(rows, start=1):
        writer.writerow([safe_cell("" if row[k] is None else row[k]) for k, _ in COLUMNS])
        if n % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def cases_xlsx(rows: Iterable[dict[str, Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hồ sơ - Cases")
    sheet.append([label for _, label in COLUMNS])
    for row in rows:
        sheet.append([safe_cell(row[k]) for k, _ in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def monthly_xlsx(report: MonthlyReport) -> bytes:
    d = report.dashboard
    book = Workbook(write_only=True)
    summary = book.create_sheet("Tổng hợp - Summary")
    summary.append([f"Báo cáo tháng {report.month} / Monthly report {report.month}"])
    summary.append(["Lập lúc / Generated", report.generated_at.strftime("%Y-%m-%d %H:%M UTC")])
    summary.append([])
    labels = {
        "flagged": "Tin bị gắn cờ / Flagged",
        "confirmed": "Xác nhận vi phạm / Confirmed",
        "referred": "Chuyển cơ quan chức năng / Referred",
        "actioned": "Đã xử lý / Actioned",
        "dismissed": "Loại bỏ / Dismissed",
        "closed": "Đóng hồ sơ / Closed",
    }
    for key, label in labels.items():
        summary.append([label, d.totals.get(key, 0)])
    summary.append(["Phản ánh nhận được / Reports received", report.reports_received])
    summary.append(["Thông báo đã gửi / Announcements", report.announcements_published])
    summary.append(["Trung vị gắn cờ → xử lý (giờ) / Median flag → action (h)", d.flag_to_action.median_hours])
    summary.append(["P90 gắn cờ → xử lý (giờ) / P90 flag → action (h)", d.flag_to_action.p90_hours])
    for title, counts in (
        ("Theo sàn - Marketplace", d.by_marketplace),
        ("Theo nhãn - Brand", d.by_brand),
        ("Theo KCN - Zone", d.by_zone),
    ):
        sheet = book.create_sheet(title)
        sheet.append(["", "Gắn cờ / Flagged", "Xác nhận / Confirmed"])
        for c in counts:
            sheet.append([safe_cell(c.key), c.flagged, c.confirmed])
    days = book.create_sheet("Theo ngày - Daily")
    days.append(["", "Gắn cờ / Flagged", "Xác nhận / Confirmed"])
    for point in d.series:
        days.append([point.period, point.flagged, point.confirmed])
    sellers = book.create_sheet("Người bán - Sellers")
    sellers.append(["Sàn / Marketplace", "Người bán / Seller", "Hồ sơ / Cases"])
    for s in report.top_sellers:
        sellers.append([safe_cell(s["marketplace"]), safe_cell(s["seller"]), s["cases"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
