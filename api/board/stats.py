"""Figures for the Board: cases flagged and confirmed over time, by marketplace, brand and zone, and
how long from flag to action. Read from the cases themselves (their history says when each step
happened), so the figures agree with what inspectors and partners see.

Cases are read in keyset pages by updated_at (no offset window to run out of): every case touched
since the period began, which includes every case flagged in it. MAX_CASES caps one reading; the
answer says `truncated` when it was reached.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from api.board.models import Count, Dashboard, Durations, SeriesPoint
from api.enterprises.store import enterprise_fields
from api.ordering import store_date
from kcnguard.records import Case, CaseState
from kcnguard.store import Query, Store
from kcnguard.store.checked import date_value

MAX_CASES = 500_000
SCAN_PAGE = 1000


def scan_cases(store: Store, since: datetime, filters: dict[str, Any] | None = None) -> Iterator[Case]:
    """Every case updated at or after `since`, oldest change first, as records (see scan_case_bodies)."""
    for body in scan_case_bodies(store, since, filters):
        yield Case.model_validate(body)


def scan_case_bodies(store: Store, since: datetime, filters: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every case updated at or after `since`, oldest change first, in (updated_at, id) keyset pages, as
    the stored documents.

    Each page starts at the last instant seen, skipping (by offset) the cases at that instant
    already read: they sort first there, by id, on both backends.
    """
    lower, same = date_value(since), 0
    while True:
        query = Query(
            filters=dict(filters or {}),
            ranges={"updated_at": (lower, None)},
            sort=[("updated_at", "asc")],
            size=SCAN_PAGE,
            offset=same,
            count=False,
        )
        page = store.cases.search_bodies(query)
        for body in page.items:
            at = store_date(store, body["updated_at"])
            same = same + 1 if at == lower else 1
            lower = at
            yield body
        if len(page.items) < SCAN_PAGE:
            return


@dataclass(frozen=True, slots=True)
class CaseTimes:
    """What the dashboard and the exports read of a case: when it was flagged, first reached each state
    and first had an action reported by any agency (the step the plan measures), and where.

    Read from the stored document, not validated into a Case: the store holds validated cases only,
    and validating each of a period's hundreds of thousands of cases took a third of the dashboard."""

    brand_id: str
    marketplace: str
    flagged_at: datetime
    first: dict[str, datetime]  # state -> when the case first moved into it
    acted_at: datetime | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> CaseTimes:
        first: dict[str, datetime] = {}
        for step in body.get("history") or ():
            to = step["to_state"]
            if to != step.get("from_state") and to not in first:
                first[to] = _moment(step["at"])
        reported = [_moment(a["reported_at"]) for r in body.get("referrals") or () for a in r.get("actions") or ()]
        acted = min(reported) if reported else first.get(CaseState.ACTIONED.value)
        return cls(body["brand_id"], body["listing_key"].split(":", 1)[0], _moment(body["created_at"]), first, acted)


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def period_of(moment: datetime, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{moment:%Y-%m}"
    return moment.date().isoformat()


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class _Tally:
    flagged: Counter[str] = field(default_factory=Counter)
    confirmed: Counter[str] = field(default_factory=Counter)

    def counts(self) -> list[Count]:
        keys = sorted(set(self.flagged) | set(self.confirmed), key=lambda k: (-self.flagged[k], -self.confirmed[k], k))
        return [Count(key=k, flagged=self.flagged[k], confirmed=self.confirmed[k]) for k in keys]


def zones_by_brand(store: Store, brand_ids: set[str]) -> dict[str, str]:
    """brand → the zone of the enterprise that owns it ("?" when the owner is not in the registry)."""
    brands = store.brands.get_bodies(sorted(brand_ids)) if brand_ids else {}
    owners = {b: body.get("owner_id", "") for b, body in brands.items()}
    zones = enterprise_fields(store, sorted(set(owners.values())), "zone")
    return {b: zones.get(o) or "?" for b, o in owners.items()}


def day_range(since: date, until: date) -> tuple[datetime, datetime]:
    return datetime.combine(since, time.min, UTC), datetime.combine(until + timedelta(days=1), time.min, UTC)


def dashboard(
    store: Store,
    since: date,
    until: date,
    granularity: str = "day",
    brand_ids: list[str] | None = None,
) -> Dashboard:
    start, end = day_range(since, until)
    filters: dict[str, Any] = {"brand_id": brand_ids} if brand_ids is not None else {}
    series = _Tally()
    by_market, by_brand, by_zone_brand = _Tally(), _Tally(), _Tally()
    totals: Counter[str] = Counter()
    hours: list[float] = []
    truncated = False
    for read, body in enumerate(scan_case_bodies(store, start, filters), start=1):
        if read > MAX_CASES:
            truncated = True
            break
        case = CaseTimes.of(body)
        flagged_at = case.flagged_at
        confirmed_at = case.first.get(CaseState.CONFIRMED.value)
        if start <= flagged_at < end:
            totals["flagged"] += 1
            series.flagged[period_of(flagged_at, granularity)] += 1
            by_market.flagged[case.marketplace] += 1
            by_brand.flagged[case.brand_id] += 1
            by_zone_brand.flagged[case.brand_id] += 1
        if confirmed_at and start <= confirmed_at < end:
            totals["confirmed"] += 1
            series.confirmed[period_of(confirmed_at, granularity)] += 1
            by_market.confirmed[case.marketplace] += 1
            by_brand.confirmed[case.brand_id] += 1
            by_zone_brand.confirmed[case.brand_id] += 1
        for state in (CaseState.REFERRED, CaseState.DISMISSED, CaseState.CLOSED):
            moment = case.first.get(state.value)
            if moment and start <= moment < end:
                totals[str(state)] += 1
        acted = case.acted_at
        if acted and start <= acted < end:
            totals["actioned"] += 1
            hours.append((acted - flagged_at).total_seconds() / 3600)
    zones = zones_by_brand(store, set(by_zone_brand.flagged) | set(by_zone_brand.confirmed))
    by_zone = _Tally()
    for brand_id, n in by_zone_brand.flagged.items():
        by_zone.flagged[zones.get(brand_id, "?")] += n
    for brand_id, n in by_zone_brand.confirmed.items():
        by_zone.confirmed[zones.get(brand_id, "?")] += n
    periods = sorted(set(series.flagged) | set(series.confirmed))
    return Dashboard(
        since=since,
        until=until,
        granularity=granularity,
        totals={k: totals[k] for k in ("flagged", "confirmed", "referred", "actioned", "dismissed", "closed")},
        series=[SeriesPoint(period=p, flagged=series.flagged[p], confirmed=series.confirmed[p]) for p in periods],
        by_marketplace=by_market.counts(),
        by_brand=by_brand.counts(),
        by_zone=by_zone.counts(),
        flag_to_action=Durations(
            count=len(hours),
            median_hours=round(statistics.median(hours), 1) if hours else None,
            p90_hours=round(p, 1) if (p := percentile(hours, 0.9)) is not None else None,
        ),
        truncated=truncated,
    )
