"""The crawler service: takes crawl jobs from the bus, runs the marketplace's spider, reports the run.

One Twisted reactor (the asyncio one Scrapy uses by default) runs in the calling thread for the
life of the service; every bus and store call is made from that thread, between or after crawls.
A job is committed only after its crawl finished and its items are durable on the bus, so a
crash or a shutdown mid-crawl re-delivers the job. A job whose run is already `done` is skipped,
so a re-delivered or re-sent job is crawled once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner
from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

from crawler.settings import scrapy_settings
from crawler.sink import BusSink, attach_sink
from crawler.spiders import spider_for
from kcnguard.backoff import Backoff
from kcnguard.bus import Bus, Consumer, Message, open_bus
from kcnguard.bus.worker import decode
from kcnguard.errors import RebalancedError, TransientError
from kcnguard.records import CrawlJob, CrawlRun, DeadLetter, utcnow
from kcnguard.settings import Settings
from kcnguard.store import Query, Store, open_store
from kcnguard.topics import CRAWL_JOBS, DEAD_LETTER

log = logging.getLogger("crawler.service")

GROUP = "crawler"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# How often a waiting service looks at the stop flag; small enough that Ctrl-C feels immediate.
_TICK = 0.1


class Interrupted(Exception):
    """The service was told to stop while a crawl ran; the job stays uncommitted and comes back."""


class CrawlerService:
    def __init__(self, settings: Settings, stop: threading.Event, bus: Bus | None = None, store: Store | None = None):
        self.settings, self.stop = settings, stop
        self.bus, self.store = bus, store
        self._own_connections = bus is None and store is None
        self.consumer: Consumer | None = None
        self.runner = AsyncCrawlerRunner(scrapy_settings(settings))
        self.finished: list[CrawlRun] = []

    # Connections ------------------------------------------------------------------------------

    def _connect(self) -> tuple[Bus, Store, Consumer]:
        if self.bus is None:
            self.bus = open_bus(self.settings.bus_url, self.settings.namespace, self.settings.data_dir)
            self.bus.ensure_topics()
        if self.store is None:
            self.store = open_store(self.settings.store_url, self.settings.namespace, self.settings.data_dir)
            self.store.setup()
        if self.consumer is None:
            self.consumer = self.bus.subscribe(GROUP, [CRAWL_JOBS], client_id="crawler")
        return self.bus, self.store, self.consumer

    def _drop_consumer(self) -> None:
        # A fresh consumer resumes from the last commit, so an unfinished job is delivered again.
        if self.consumer is not None:
            try:
                self.consumer.close()
            except Exception:
                log.debug("closing a broken consumer failed", exc_info=True)
            self.consumer = None

    def close(self) -> None:
        self._drop_consumer()
        if self._own_connections:
            for closeable in (self.bus, self.store):
                if closeable is not None:
                    try:
                        closeable.close()
                    except Exception:
                        log.debug("closing %s failed", type(closeable).__name__, exc_info=True)
            self.bus = self.store = None

    # The loop ---------------------------------------------------------------------------------

    async def serve(self) -> None:
        log.info("crawler: consuming %s as group %s", CRAWL_JOBS.name, GROUP)
        backoff = Backoff(longest=self.settings.retry_max_seconds)
        try:
            while not self.stop.is_set():
                try:
                    await self.step()
                    backoff.reset()
                except Interrupted:
                    break
                except TransientError as exc:
                    delay = backoff.next_delay()
                    log.warning("crawler: %s; retrying in %.1fs", exc, delay)
                    self._drop_consumer()
                    await self._sleep(delay)
                except Exception as exc:  # an unexpected failure must not end the service
                    delay = backoff.next_delay()
                    log.exception("crawler: unexpected %s: %s; retrying in %.1fs", type(exc).__name__, exc, delay)
                    self._drop_consumer()
                    await self._sleep(delay)
        finally:
            self.close()
            log.info("crawler: stopped")

    async def step(self) -> None:
        bus, _store, consumer = self._connect()
        # One job at a time: the reactor is idle while polling, so a short blocking poll costs nothing.
        messages = consumer.poll(1, timeout=0.2)
        if not messages:
            await self._sleep(self.settings.worker_poll_seconds)
            return
        for message in messages:
            await self.handle(message)
            bus.flush()
            try:
                consumer.commit([message])
            except RebalancedError as exc:
                log.warning("crawler: %s; the new owner re-delivers the job, which is skipped if done", exc)

    async def handle(self, message: Message) -> None:
        try:
            job = decode(CRAWL_JOBS, message)
        except ValueError as exc:
            assert self.bus is not None
            letter = DeadLetter.of(
                message.value,
                str(exc),
                source=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=message.key.decode(errors="replace") if message.key else None,
                worker="crawler",
            )
            self.bus.publish_records(DEAD_LETTER, [letter])
            log.error("crawler: job at %s/%s dead-lettered: %s", message.partition, message.offset, exc)
            return
        assert isinstance(job, CrawlJob)
        await self.crawl(job)

    async def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(_TICK, max(0.0, deadline - time.monotonic())))

    # One job ----------------------------------------------------------------------------------

    def _done_before(self, job: CrawlJob) -> CrawlRun | None:
        assert self.store is not None
        page = self.store.search_crawl_runs(Query(filters={"job_id": job.job_id, "status": "done"}, size=1))
        return page.items[0] if page.items else None

    async def crawl(self, job: CrawlJob) -> CrawlRun:
        """Run one job to its end and record the run; raises Interrupted or TransientError without recording done."""
        assert self.bus is not None and self.store is not None
        earlier = self._done_before(job)
        if earlier is not None:
            log.info("crawler: job %s already done at %s; skipped", job.job_id, earlier.finished_at)
            return earlier
        run = CrawlRun(
            job_id=job.job_id, brand_id=job.brand_id, marketplace=job.marketplace, query=job.query, status="running"
        )
        spider_cls = spider_for(job.marketplace)
        if spider_cls is None:
            return self._record(run, "failed", f"no spider for marketplace {job.marketplace!r}", None, None)
        self.store.put_crawl_run(run)
        log.info("crawler: job %s: %s on %s for %s", job.job_id, job.query, job.marketplace, job.brand_id)
        sink = BusSink(self.bus)
        crawler = self.runner.create_crawler(spider_cls)
        attach_sink(crawler, sink)
        task = self.runner.crawl(crawler, job=job, base_url=spider_cls.base_url_from(self.settings))
        stopping: asyncio.Future[None] | None = None
        while not task.done():
            await asyncio.wait({task}, timeout=_TICK)
            if self.stop.is_set() and stopping is None:
                log.info("crawler: stopping mid-crawl; job %s stays uncommitted", job.job_id)
                stopping = asyncio.ensure_future(crawler.stop_async())
        try:
            task.result()
        except Exception as exc:
            self._record(run, "failed", f"crawl raised {type(exc).__name__}: {exc}", sink, crawler)
            raise
        if stopping is not None:
            self._record(run, "failed", "interrupted by shutdown; the job will be re-delivered", sink, crawler)
            raise Interrupted
        if sink.error is not None:
            self._record(run, "failed", f"bus unavailable while publishing: {sink.error}", sink, crawler)
            raise sink.error
        self.bus.flush()
        status, reason = _outcome(crawler)
        return self._record(run, status, reason, sink, crawler)

    def _record(self, run: CrawlRun, status: str, reason: str | None, sink: BusSink | None, crawler: Any) -> CrawlRun:
        stats = crawler.stats.get_stats() if crawler is not None else {}
        finished = CrawlRun.model_validate(
            {
                **run.model_dump(),
                "status": status,
                "reason": reason,
                "listings": sink.listings if sink else 0,
                "quarantined": sink.quarantined if sink else 0,
                "pages": int(stats.get("kcnguard/pages", 0)),
                "finished_at": utcnow(),
            }
        )
        assert self.store is not None
        try:
            self.store.put_crawl_run(finished)
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
        self.finished.append(finished)
        return finished


def _outcome(crawler: Any) -> tuple[str, str | None]:
    """done, blocked or failed, from what the spider met; a partial crawl with pages read is done."""
    spider = crawler.spider
    stats = crawler.stats.get_stats()
    pages = int(stats.get("kcnguard/pages", 0))
    failures: list[str] = getattr(spider, "failures", [])
    blocked: list[int] = getattr(spider, "blocked_statuses", [])
    forbidden = int(stats.get("robotstxt/forbidden", 0))
    if pages == 0 and (forbidden or blocked):
        why = "robots.txt forbids the search page" if forbidden else f"HTTP {blocked[0]} from the marketplace"
        return "blocked", why
    if pages == 0:
        return "failed", failures[0] if failures else f"no page read (finish reason {stats.get('finish_reason')})"
    if failures:
        return "done", f"{len(failures)} requests failed, first: {failures[0]}"[:2000]
    return "done", None


# Running the reactor -----------------------------------------------------------------------------


def _run_reactor(main: Callable[[], Awaitable[Any]]) -> Any:
    """Run `main` on Scrapy's asyncio reactor in this thread until it returns; once per process."""
    if not is_reactor_installed():
        install_reactor(ASYNCIO_REACTOR)
    elif not is_asyncio_reactor_installed():
        raise RuntimeError("a non-asyncio Twisted reactor is installed; the crawler needs " + ASYNCIO_REACTOR)
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred

    outcome: dict[str, Any] = {}

    def started() -> None:
        deferred = Deferred.fromFuture(asyncio.ensure_future(main()))

        def finished(result: Any) -> None:
            outcome["result"] = result
            reactor.stop()  # type: ignore[attr-defined]

        deferred.addBoth(finished)

    reactor.callWhenRunning(started)  # type: ignore[attr-defined]
    # The `kcnguard` command owns SIGINT/SIGTERM (they set `stop`); Twisted must not take them over.
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]
    result = outcome.get("result")
    if hasattr(result, "raiseException"):  # a twisted Failure
        result.raiseException()
    return result


def run(settings: Settings, stop: threading.Event) -> None:
    """The crawler service: crawl jobs from the bus until `stop` is set. Call in the main thread."""
    service = CrawlerService(settings, stop)
    _run_reactor(service.serve)


def crawl_one(job: CrawlJob, settings: Settings, bus: Bus, store: Store) -> CrawlRun:
    """Run one job outside the service loop (scripts, tests); starts the reactor, so once per process."""
    service = CrawlerService(settings, threading.Event(), bus=bus, store=store)
    return _run_reactor(lambda: service.crawl(job))
