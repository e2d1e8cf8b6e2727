"""One crawl job's run: skip it if done, crawl it with its marketplace's spider, publish, record the CrawlRun.

A job whose run is already `done` is skipped, so a re-delivered or re-sent job is crawled once;
a copy that arrives while the first still crawls waits for it and then finds it done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner, Crawler

from crawler.changes import apply_removals
from crawler.pause import TICK
from crawler.settings import scrapy_settings
from crawler.sink import BusSink, attach_sink
from crawler.spiders import spider_for
from crawler.spiders.base import PAGES_STAT, attach_evidence
from kcnguard.bus import Bus
from kcnguard.errors import TransientError
from kcnguard.evidence import EvidenceStore
from kcnguard.records import CrawlJob, CrawlRun, utcnow
from kcnguard.settings import Settings
from kcnguard.store import Query, Store

# One logger for the whole service, so its lines read as one story whichever module writes them.
log = logging.getLogger("crawler.service")


class Interrupted(Exception):
    """The service was told to stop while a crawl ran; the job stays uncommitted and comes back."""


class JobRunner:
    """Runs crawl jobs as Scrapy crawlers on the running reactor, several at once, and records each run."""

    def __init__(self, settings: Settings, stop: threading.Event, evidence: EvidenceStore) -> None:
        self.settings, self.stop, self.evidence = settings, stop, evidence
        self.runner = AsyncCrawlerRunner(scrapy_settings(settings))
        # Jobs crawling now by id: a re-sent copy waits for the first, then finds it done and skips.
        self._crawling: dict[str, asyncio.Event] = {}

    async def crawl(self, job: CrawlJob, bus: Bus, store: Store) -> CrawlRun:
        """Run one job to its end and record the run; raises Interrupted or TransientError without recording done."""
        while job.job_id in self._crawling:
            await self._crawling[job.job_id].wait()
        self._crawling[job.job_id] = asyncio.Event()
        try:
            return await self._crawl(job, bus, store)
        finally:
            self._crawling.pop(job.job_id).set()

    async def _crawl(self, job: CrawlJob, bus: Bus, store: Store) -> CrawlRun:
        earlier = _done_before(store, job)
        if earlier is not None:
            log.info("crawler: job %s already done at %s; skipped", job.job_id, earlier.finished_at)
            return earlier
        run = CrawlRun(
            job_id=job.job_id, brand_id=job.brand_id, marketplace=job.marketplace, query=job.query, status="running"
        )
        spider_cls = spider_for(job.marketplace)
        if spider_cls is None:
            return _record(store, run, "failed", f"no spider for marketplace {job.marketplace!r}")
        try:
            kwargs = spider_cls.spider_kwargs(self.settings)
        except ValueError as exc:  # a malformed per-marketplace setting: the operator must fix it
            return _record(store, run, "failed", str(exc))
        store.put_crawl_run(run)
        log.info(
            "crawler: job %s (%s): %s on %s for %s", job.job_id, job.reason, job.query, job.marketplace, job.brand_id
        )
        sink = BusSink(bus)
        crawler = self.runner.create_crawler(spider_cls)
        attach_sink(crawler, sink)
        attach_evidence(crawler, self.evidence)
        task = asyncio.ensure_future(self.runner.crawl(crawler, job=job, **kwargs))
        stopping: asyncio.Future[None] | None = None
        while not task.done():
            await asyncio.wait({task}, timeout=TICK)
            if self.stop.is_set() and stopping is None:
                log.info("crawler: stopping mid-crawl; job %s stays uncommitted", job.job_id)
                stopping = asyncio.ensure_future(crawler.stop_async())
        try:
            task.result()
        except Exception as exc:
            _record(store, run, "failed", f"crawl raised {type(exc).__name__}: {exc}", sink, _pages(crawler))
            raise
        if stopping is not None:
            reason = "interrupted by shutdown; the job will be re-delivered"
            _record(store, run, "failed", reason, sink, _pages(crawler))
            raise Interrupted
        if sink.error is None:
            with contextlib.suppress(TransientError):  # remembered as sink.error, handled next
                sink.drain()
        if sink.error is not None:
            _record(store, run, "failed", f"bus unavailable while publishing: {sink.error}", sink, _pages(crawler))
            raise sink.error
        bus.flush()
        outcome = crawler.spider.report()
        # Store down here raises TransientError: the job is not committed and its re-check comes back.
        apply_removals(store, outcome.removals)
        status, reason = outcome.verdict()
        return _record(store, run, status, reason, sink, outcome.pages)


def _done_before(store: Store, job: CrawlJob) -> CrawlRun | None:
    page = store.search_crawl_runs(Query(filters={"job_id": job.job_id, "status": "done"}, size=1))
    return page.items[0] if page.items else None


def _pages(crawler: Crawler) -> int:
    """Pages read so far, for a run that ends before its spider could report."""
    stats: Any = crawler.stats
    return int(stats.get_value(PAGES_STAT, 0)) if stats is not None else 0


def _record(
    store: Store, run: CrawlRun, status: str, reason: str | None, sink: BusSink | None = None, pages: int = 0
) -> CrawlRun:
    finished = CrawlRun.model_validate(
        {
            **run.model_dump(),
            "status": status,
            "reason": reason[:2000] if reason else None,
            "listings": sink.listings if sink else 0,
            "quarantined": sink.quarantined if sink else 0,
            "pages": pages,
            "finished_at": utcnow(),
        }
    )
    try:
        store.put_crawl_run(finished)
    except TransientError:
        if status == "done":
            raise  # without the record the job would be crawled again; better to retry now
        log.warning("crawler: run %s (%s) could not be recorded: store down", run.job_id, status)
    log.info(
        "crawler: job %s %s: %d listings, %d quarantined, %d pages%s",
        run.job_id,
        status,
        finished.listings,
        finished.quarantined,
        finished.pages,
        f" ({reason})" if reason else "",
    )
    return finished
