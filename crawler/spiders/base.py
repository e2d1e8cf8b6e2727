"""What every marketplace spider shares: it is built from a CrawlJob and quarantines what it cannot read."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.pages.base import evidence_digest
from kcnguard.records import CrawlJob, DeadLetter
from kcnguard.settings import Settings

log = logging.getLogger(__name__)


class MarketplaceSpider(scrapy.Spider):
    marketplace: ClassVar[str]

    def __init__(self, job: CrawlJob, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if job.marketplace != self.marketplace:
            raise ValueError(f"job {job.job_id} is for {job.marketplace}, not {self.marketplace}")
        self.job = job
        self.base_url = base_url.rstrip("/")
        self.failures: list[str] = []
        self.blocked_statuses: list[int] = []

    @classmethod
    def base_url_from(cls, settings: Settings) -> str:
        raise NotImplementedError

    def quarantine(self, response: Response, reason: str) -> DeadLetter:
        log.warning("job %s: %s quarantined: %s", self.job.job_id, response.url, reason)
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
                self.blocked_statuses.append(status)
            message = f"{url}: HTTP {status}"
        else:
            message = f"{url}: {failure.type.__name__}: {failure.getErrorMessage()}"
        self.failures.append(message)
        log.warning("job %s: request failed: %s", self.job.job_id, message)
