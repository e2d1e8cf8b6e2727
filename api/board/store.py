"""Where the Board's content is kept: legal documents, announcements and who has read each."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from api.board.models import Announcement, Document
from kcnguard.errors import ConflictError
from kcnguard.store import RecordTable, Store
from kcnguard.store.schema import Collection, Kind, searchable

DOCUMENTS = Collection(
    "documents",
    {
        "doc_id": searchable("doc_id", Kind.KEYWORD),
        "issued_on": searchable("issued_on", Kind.DATE),
        "title": searchable("title", Kind.TEXT),
        "order": searchable("order", Kind.INT),
    },
)
ANNOUNCEMENTS = Collection(
    "announcements",
    {
        "announcement_id": searchable("announcement_id", Kind.KEYWORD),
        "audience": searchable("audience", Kind.KEYWORD, many=True),  # enterprise ids, or "all"
        "published_at": searchable("published_at", Kind.DATE),
        "title": searchable("title", Kind.TEXT),
    },
)
ANNOUNCEMENT_READS = Collection(
    "announcement_reads",
    {
        "announcement_id": searchable("announcement_id", Kind.KEYWORD),
        "enterprise_id": searchable("enterprise_id", Kind.KEYWORD),
        "read_at": searchable("read_at", Kind.DATE),
    },
)


class AnnouncementRead(BaseModel):
    """An enterprise's first opening of an announcement; `read_at` as the store compares dates (date_value)."""

    announcement_id: str
    enterprise_id: str
    read_at: str
    read_by: str | None = None

    @property
    def read_id(self) -> str:
        return read_id(self.announcement_id, self.enterprise_id)


def read_id(announcement_id: str, enterprise_id: str) -> str:
    return f"{announcement_id}|{enterprise_id}"


def documents(store: Store) -> RecordTable[Document]:
    # The page lists them right after an edit: visible to search at once.
    return store.table(DOCUMENTS, Document, lambda d: d.doc_id, refresh_on_write=True)


def announcements(store: Store) -> RecordTable[Announcement]:
    # `read_at` is the reader's, added when read (AnnouncementReads), never stored with the announcement.
    return store.table(
        ANNOUNCEMENTS,
        Announcement,
        lambda a: a.announcement_id,
        dump=lambda a: a.model_dump(mode="json", exclude={"read_at"}),
        refresh_on_write=True,
    )


class AnnouncementReads:
    """Read receipts, one per (announcement, enterprise): the first reading is the one kept."""

    def __init__(self, store: Store) -> None:
        self.table = store.table(ANNOUNCEMENT_READS, AnnouncementRead, lambda r: r.read_id)

    def first_reading(self, receipt: AnnouncementRead) -> tuple[AnnouncementRead, bool]:
        """The receipt kept for this announcement and enterprise, and whether it is this one (read now)."""
        try:
            self.table.create(receipt)
            return receipt, True
        except ConflictError:
            return self.table.get(receipt.read_id) or receipt, False

    def of(self, announcement_id: str, enterprise_ids: Sequence[str]) -> dict[str, AnnouncementRead]:
        """The receipts of these enterprises for one announcement, by enterprise."""
        found = self.table.get_many([read_id(announcement_id, e) for e in enterprise_ids])
        return {r.enterprise_id: r for r in found.values()}

    def by(self, enterprise_id: str, announcement_ids: Sequence[str]) -> dict[str, AnnouncementRead]:
        """One enterprise's receipts for these announcements, by announcement."""
        found = self.table.get_many([read_id(a, enterprise_id) for a in announcement_ids])
        return {r.announcement_id: r for r in found.values()}
