"""The searchable fields of each collection: one definition for both backends.

Elasticsearch gets them as a mapping with dynamic=false (the rest of a document is kept
but not indexed, so hostile keys cannot explode the mapping); SQLite gets them as
generated columns with indexes, and the text fields as an FTS5 table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    KEYWORD = "keyword"
    TEXT = "text"
    FLOAT = "float"
    INT = "long"
    BOOL = "boolean"
    DATE = "date"


@dataclass(frozen=True)
class Field:
    path: str  # dotted path into the document
    kind: Kind
    many: bool = False  # the value is a list; a filter matches when any element does


@dataclass(frozen=True)
class Collection:
    name: str
    fields: dict[str, Field]  # query name -> where it lives in the document

    @property
    def text_fields(self) -> list[str]:
        return [name for name, f in self.fields.items() if f.kind is Kind.TEXT]


def _f(path: str, kind: Kind, many: bool = False) -> Field:
    return Field(path, kind, many)


K, T, F, B, D = Kind.KEYWORD, Kind.TEXT, Kind.FLOAT, Kind.BOOL, Kind.DATE

BRANDS = Collection(
    "brands",
    {
        "brand_id": _f("brand_id", K),
        "owner_id": _f("owner_id", K),
        "name": _f("name", T),
        "updated_at": _f("updated_at", D),
    },
)

LISTINGS = Collection(
    "listings",
    {
        "key": _f("key", K),
        "marketplace": _f("listing.marketplace", K),
        "seller_id": _f("listing.seller.id", K),
        "title": _f("listing.title", T),
        "price": _f("listing.price", F),
        "status": _f("status", K),
        "last_seen_at": _f("last_seen_at", D),
        "crawl_job_id": _f("listing.crawl_job_id", K),
        "evidence_digest": _f("listing.evidence_digest", K),
    },
)

SCORED = Collection(
    "scored",
    {
        "listing_key": _f("listing_key", K),
        "brand_id": _f("brand_id", K),
        "marketplace": _f("listing.marketplace", K),
        "seller_id": _f("listing.seller.id", K),
        "title": _f("listing.title", T),
        "score": _f("score", F),
        "flagged": _f("flagged", B),
        "model_version": _f("model_version", K),
        "scored_at": _f("scored_at", D),
        # new / confirmed / dismissed / needs_info, from the listing's case (kcnguard.records.case.review_status)
        "review_status": _f("review_status", K),
    },
)

CASES = Collection(
    "cases",
    {
        "case_id": _f("case_id", K),
        "listing_key": _f("listing_key", K),
        "brand_id": _f("brand_id", K),
        "state": _f("state", K),
        "agencies": _f("agencies", K, many=True),
        "score": _f("score", F),
        "updated_at": _f("updated_at", D),
    },
)

CRAWL_RUNS = Collection(
    "crawl_runs",
    {
        "job_id": _f("job_id", K),
        "brand_id": _f("brand_id", K),
        "marketplace": _f("marketplace", K),
        "status": _f("status", K),
        "started_at": _f("started_at", D),
    },
)

API_KEYS = Collection(
    "api_keys",
    {
        "role": _f("role", K),
        "name": _f("name", K),
    },
)

# People who sign in to the portal, and their sessions (by the token's SHA-256, never the token).
USERS = Collection("users", {"username": _f("username", K), "role": _f("role", K), "owner_id": _f("owner_id", K)})
SESSIONS = Collection("sessions", {"username": _f("username", K), "expires_at": _f("expires_at", D)})

# The KCN enterprises that own brands, and the agencies cases are referred to.
ENTERPRISES = Collection(
    "enterprises",
    {
        "enterprise_id": _f("enterprise_id", K),
        "name": _f("name", T),
        "tax_code": _f("tax_code", K),
        "zone": _f("zone", K),
        "updated_at": _f("updated_at", D),
    },
)
AGENCIES = Collection("agencies", {"slug": _f("slug", K), "kind": _f("kind", K), "name": _f("name", T)})

# Suspect listing URLs sent in by enterprises, workers and consumers.
REPORTS = Collection(
    "reports",
    {
        "report_id": _f("report_id", K),
        "status": _f("status", K),
        "brand_id": _f("brand_id", K),
        "owner_id": _f("owner_id", K),
        "marketplace": _f("marketplace", K),
        "reporter_kind": _f("reporter_kind", K),
        "received_at": _f("received_at", D),
        "text": _f("search_text", T),  # the note and the URL's words
    },
)

# The Board's content: legal documents (editable, seeded), announcements and who has read them.
DOCUMENTS = Collection(
    "documents",
    {
        "doc_id": _f("doc_id", K),
        "issued_on": _f("issued_on", D),
        "title": _f("title", T),
        "order": _f("order", Kind.INT),
    },
)
ANNOUNCEMENTS = Collection(
    "announcements",
    {
        "announcement_id": _f("announcement_id", K),
        "audience": _f("audience", K, many=True),  # enterprise ids, or "all"
        "published_at": _f("published_at", D),
        "title": _f("title", T),
    },
)
ANNOUNCEMENT_READS = Collection(
    "announcement_reads",
    {"announcement_id": _f("announcement_id", K), "enterprise_id": _f("enterprise_id", K), "read_at": _f("read_at", D)},
)

# Declared next to their domains, which import this module for Collection: so imported only here, at the end.
from kcnguard.cases.collections import AUDIT, AUDIT_HEAD, OUTBOX  # noqa: E402
from kcnguard.webhooks.collections import WEBHOOK_DELIVERIES, WEBHOOKS  # noqa: E402

COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        BRANDS,
        LISTINGS,
        SCORED,
        CASES,
        CRAWL_RUNS,
        API_KEYS,
        USERS,
        SESSIONS,
        ENTERPRISES,
        AGENCIES,
        AUDIT,
        AUDIT_HEAD,
        REPORTS,
        OUTBOX,
        DOCUMENTS,
        ANNOUNCEMENTS,
        ANNOUNCEMENT_READS,
        WEBHOOKS,
        WEBHOOK_DELIVERIES,
    )
}
