"""What every marketplace spider shares: built from a CrawlJob, it keeps evidence and quarantines what it cannot read.

Every raw response that yields a listing or a quarantine is put in the evidence store (by its
SHA-256, which is the listing's evidence_digest), so what the system claims a page said can be
shown later. What the crawl met (pages read, failed requests, a block or captcha answer told by
the block middleware, listings found gone on a re-check) is kept in one CrawlOutcome, which the
spider hands the job's run when the crawl ends (`report`).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.changes import Removal
from crawler.outcome import CrawlOutcome
from crawler.pages.base import evidence_digest
from kcnguard.evidence import EvidenceStore
from kcnguard.records import CrawlJob, DeadLetter, listing_key, utcnow
from kcnguard.settings import Settings

log = logging.getLogger(__name__)

# The crawler attribute the service sets so spiders find the evidence store of their crawl.
_EVIDENCE_ATTR = "kcnguard_evidence"
# The stat counting responses read (parsed, or a re-check's "gone" answer): the run's `pages`.
PAGES_STAT = "kcnguard/pages"


def attach_evidence(crawler: Any, evidence: EvidenceStore) -> None:
    setattr(crawler, _EVIDENCE_ATTR, evidence)


class MarketplaceSpider(scrapy.Spider):
    marketplace: ClassVar[str]

    def __init__(self, job: CrawlJob, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if job.marketplace != self.marketplace:
            raise ValueError(f"job {job.job_id} is for {job.marketplace}, not {self.marketplace}")
        self.job = job
        self.base_url = base_url.rstrip("/")
        self.outcome = CrawlOutcome(self.marketplace)

    @classmethod
    def base_url_from(cls, settings: Settings) -> str:
        raise NotImplementedError

    @classmethod
    def spider_kwargs(cls, settings: Settings) -> dict[str, Any]:
        """What the service passes to the spider besides the job."""
        return {"base_url": cls.base_url_from(settings)}

    def report(self) -> CrawlOutcome:
        """What this crawl met, its counters taken from the crawl's stats; call once the crawl has ended."""
        stats = self.crawler.stats
        self.outcome.pages = int(stats.get_value(PAGES_STAT, 0))
        self.outcome.robots_forbidden = int(stats.get_value("robotstxt/forbidden", 0))
        self.outcome.finish_reason = stats.get_value("finish_reason")
        return self.outcome

    def page_read(self) -> None:
        self.crawler.stats.inc_value(PAGES_STAT)

    @property
    def evidence(self) -> EvidenceStore:
        store = getattr(self.crawler, _EVIDENCE_ATTR, None)
        if store is None:
            raise RuntimeError(
                "this crawler has no evidence store: run spiders through crawler.service, which attaches one"
            )
        return store

    def keep_evidence(self, response: Response) -> str:
        """Put the raw body in the evidence store; returns its digest (the listings' evidence_digest)."""
        digest = self.evidence.put(response.body)
        self.crawler.stats.inc_value("kcnguard/evidence")
        return digest

    def blocked(self, reason: str, response: Response) -> None:
        """Called by the block middleware: the run ends `blocked` with this reason; the page is kept as evidence."""
        self.outcome.blocks.append(reason)
        try:
            self.keep_evidence(response)
        except Exception:  # the block is what matters; a failing evidence store is logged, not raised
            log.exception("job %s: could not keep the block page of %s as evidence", self.job.job_id, response.url)

    def removed(self, listing_id: str, reason: str) -> None:
        at = utcnow()
        self.outcome.removals.append(Removal(listing_key(self.marketplace, listing_id), at, reason))
        log.info("job %s: listing %s:%s gone: %s", self.job.job_id, self.marketplace, listing_id, reason)

    def quarantine(self, response: Response, reason: str) -> DeadLetter:
        log.warning("job %s: %s quarantined: %s", self.job.job_id, response.url, reason)
        self.keep_evidence(response)
        return DeadLetter.of(
            response.body,
            reason,
            source="crawl",
            url=response.url,
            evidence_digest=evidence_digest(response.body),
            key=self.job.job_id,
            worker=f"crawler/{self.name}",
        )

    def request_failed(self, failure: Failure) -> None:
        """Errback: a page that could not be fetched is counted and told, so the run's status is honest."""
        url = failure.request.url if hasattr(failure, "request") else "?"
        if failure.check(HttpError):
            status = failure.value.response.status
            if status in (401, 403, 429):
                self.outcome.blocked_statuses.append(status)
            message = f"{url}: HTTP {status}"
        else:
            message = f"{url}: {failure.type.__name__}: {failure.getErrorMessage()}"
        self.outcome.failures.append(message)
        log.warning("job %s: request failed: %s", self.job.job_id, message)
