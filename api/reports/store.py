"""Where reports of suspect listings are kept: their collection, and the typed face the services use."""

from __future__ import annotations

from api.reports.models import Report
from kcnguard.store import RecordTable, Store
from kcnguard.store.schema import Collection, Kind, searchable

REPORTS = Collection(
    "reports",
    {
        "report_id": searchable("report_id", Kind.KEYWORD),
        "status": searchable("status", Kind.KEYWORD),
        "brand_id": searchable("brand_id", Kind.KEYWORD),
        "owner_id": searchable("owner_id", Kind.KEYWORD),
        "marketplace": searchable("marketplace", Kind.KEYWORD),
        "reporter_kind": searchable("reporter_kind", Kind.KEYWORD),
        "received_at": searchable("received_at", Kind.DATE),
        "text": searchable("search_text", Kind.TEXT),  # the note and the URL's words
    },
)


def reports(store: Store) -> RecordTable[Report]:
    return store.table(REPORTS, Report, lambda r: r.report_id)
