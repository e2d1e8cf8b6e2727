"""Dates and times a query string may carry, held to the years every backend and every period sum can handle.

A year below 1000 is not four digits, so neither store compares it as the others (ISO text in SQLite,
strict dates in Elasticsearch), and a day near 9999-12-31 overflows once a period adds its last day,
a week or a time-zone offset. Both answer a 422 problem before any query runs, never a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator

FIRST_DAY = date(1000, 1, 1)
# A week and a day of room below date.max: the dashboard rounds periods to weeks and ends on the next midnight.
LAST_DAY = date(9998, 12, 31)

OUT_OF_RANGE = f"must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()} (ngày phải nằm trong khoảng đó)"


def checked_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"the day {day.isoformat()} {OUT_OF_RANGE}")
    return day


def checked_moment(moment: datetime) -> datetime:
    """The moment in UTC (naive means UTC, as the records hold), or ValueError when it falls outside the range."""
    try:
        in_utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"the time {moment.isoformat()} {OUT_OF_RANGE}") from None
    if not FIRST_DAY <= in_utc.date() <= LAST_DAY:
        raise ValueError(f"the time {moment.isoformat()} {OUT_OF_RANGE}")
    return in_utc


# Use these for every date or datetime a route reads from its query string.
QueryDay = Annotated[date, AfterValidator(checked_day)]
QueryMoment = Annotated[datetime, AfterValidator(checked_moment)]
