"""Where the enterprise registry is kept: its collection, and the typed face the services use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.enterprises.models import Enterprise
from kcnguard.store import RecordTable, Store
from kcnguard.store.schema import Collection, Kind, searchable

ENTERPRISES = Collection(
    "enterprises",
    {
        "enterprise_id": searchable("enterprise_id", Kind.KEYWORD),
        "name": searchable("name", Kind.TEXT),
        "tax_code": searchable("tax_code", Kind.KEYWORD),
        "zone": searchable("zone", Kind.KEYWORD),
        "updated_at": searchable("updated_at", Kind.DATE),
    },
)


def enterprises(store: Store) -> RecordTable[Enterprise]:
    # Listed right after they change (the Board's registry page, a brand's owner check): visible at once.
    return store.table(ENTERPRISES, Enterprise, lambda e: e.enterprise_id, refresh_on_write=True)


def enterprise_fields(store: Store, enterprise_ids: Sequence[str], name: str) -> dict[str, Any]:
    """One stored field (a name, a zone) of each enterprise found, read without validating whole records."""
    bodies = enterprises(store).get_bodies(list(enterprise_ids)) if enterprise_ids else {}
    return {i: body.get(name) for i, body in bodies.items()}
