"""Where the agencies registry is kept: its collection, and the typed face the service uses."""

from __future__ import annotations

from api.agencies.models import Agency
from kcnguard.store import RecordTable, Store
from kcnguard.store.schema import Collection, Kind, searchable

AGENCIES = Collection(
    "agencies",
    {
        "slug": searchable("slug", Kind.KEYWORD),
        "kind": searchable("kind", Kind.KEYWORD),
        "name": searchable("name", Kind.TEXT),
    },
)


def agencies(store: Store) -> RecordTable[Agency]:
    # Listed right after they change (the admin's page, a referral's check): visible to search at once.
    return store.table(AGENCIES, Agency, lambda a: a.slug, refresh_on_write=True)
