"""The monthly report for the Board's leadership: the month's figures, reports received, top sellers."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from api.board.models import MonthlyReport
from api.board.stats import dashboard, day_range, scan_cases
from api.board.store import announcements
from api.dates import FIRST_DAY, LAST_DAY
from api.problems import Problem
from api.reports.store import reports
from kcnguard.records import utcnow
from kcnguard.store import Query, RecordTable, Store
from kcnguard.store.checked import date_value

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TOP_SELLERS = 10


def month_bounds(month: str) -> tuple[date, date]:
    match = MONTH.match(month)
    if not match:
        raise Problem(
            422,
            "bad-month",
            f"Tháng '{month[:20]}' không hợp lệ; dùng dạng YYYY-MM, ví dụ 2026-03.",
            f"Month '{month[:20]}' is not valid; use YYYY-MM, e.g. 2026-03.",
        )
    if not FIRST_DAY.year <= int(match[1]) <= LAST_DAY.year:
        raise Problem(
            422,
            "bad-month",
            f"Tháng '{month}' nằm ngoài khoảng {FIRST_DAY:%Y-%m} đến {LAST_DAY:%Y-%m}.",
            f"Month '{month}' lies outside {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m}.",
        )
    first = date(int(match[1]), int(match[2]), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _count(table: RecordTable[Any], field: str, start: datetime, end: datetime) -> int:
    # Ranges are inclusive; the end of a month is the last millisecond before the next one.
    last = date_value(end - timedelta(milliseconds=1))
    return table.count(Query(ranges={field: (date_value(start), last)}))


def monthly(store: Store, month: str) -> MonthlyReport:
    first, last = month_bounds(month)
    board = dashboard(store, first, last, granularity="day")
    start, end = day_range(first, last)
    listing_keys = [c.listing_key for c in scan_cases(store, start) if start <= c.created_at < end][:50_000]
    sellers: Counter[tuple[str, str]] = Counter()
    for offset in range(0, len(listing_keys), 500):
        found = store.listings.get_bodies(listing_keys[offset : offset + 500])
        for body in found.values():
            listing = body["listing"]
            seller = listing.get("seller") or {}
            sellers[(listing["marketplace"], seller.get("name") or seller.get("id") or "?")] += 1
    return MonthlyReport(
        month=month,
        dashboard=board,
        reports_received=_count(reports(store), "received_at", start, end),
        announcements_published=_count(announcements(store), "published_at", start, end),
        top_sellers=[{"marketplace": m, "seller": s, "cases": n} for (m, s), n in sellers.most_common(TOP_SELLERS)],
        generated_at=utcnow(),
    )
