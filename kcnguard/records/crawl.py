"""A crawl job: one query on one marketplace for one brand."""

from __future__ import annotations

import hashlib

from pydantic import Field

from kcnguard.records.base import AwareDatetime, CleanText, Record, RecordId, Slug, utcnow
from kcnguard.store.schema import Collection, Kind, searchable


class CrawlJob(Record):
    job_id: RecordId
    brand_id: Slug
    marketplace: Slug
    query: CleanText = Field(min_length=1, max_length=200)
    max_pages: int = Field(default=3, ge=1, le=100)
    created_at: AwareDatetime = Field(default_factory=utcnow)
    reason: str = Field(default="scheduled", pattern="^(scheduled|manual|recheck)$")

    @staticmethod
    def make_id(brand_id: str, marketplace: str, query: str, slot: str) -> str:
        """Same brand, marketplace, query and time slot: same id, so a re-sent job is one job."""
        raw = "\x1f".join((brand_id, marketplace, query.casefold(), slot))
        return "job-" + hashlib.sha256(raw.encode()).hexdigest()[:24]


class CrawlRun(Record):
    """What became of a crawl job, as the crawler reports it."""

    job_id: str
    brand_id: Slug
    marketplace: Slug
    query: str
    status: str = Field(pattern="^(running|done|blocked|failed)$")
    reason: str | None = None
    listings: int = 0
    quarantined: int = 0
    pages: int = 0
    started_at: AwareDatetime = Field(default_factory=utcnow)
    finished_at: AwareDatetime | None = None


CRAWL_RUNS = Collection(
    "crawl_runs",
    {
        "job_id": searchable("job_id", Kind.KEYWORD),
        "brand_id": searchable("brand_id", Kind.KEYWORD),
        "marketplace": searchable("marketplace", Kind.KEYWORD),
        "status": searchable("status", Kind.KEYWORD),
        "started_at": searchable("started_at", Kind.DATE),
    },
    indexes=(("brand_id", "started_at"),),
)
