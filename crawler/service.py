"""The crawler service: takes crawl jobs from the bus, runs the marketplace's spider, reports the run.

One Twisted reactor (the asyncio one Scrapy uses by default) runs in the calling thread for the
life of the service; every bus and store call is made from that thread, between or after crawls.
Up to `crawl_concurrent_jobs` jobs crawl at once (one Scrapy crawler each, sharing the reactor;
per-domain concurrency and AutoThrottle hold per crawler).

Long crawls and redelivery: a job's offset is committed only after its crawl finished and its
items are durable on the bus, and only once every earlier job of its partition is finished too
(OffsetTracker), so a crash or a shutdown mid-crawl re-delivers exactly the unfinished jobs. The
consumer stays a live group member while jobs run: the embedded bus heartbeats from a thread,
and Kafka's consumer heartbeats from its own thread but leaves the group when `poll` is not
called within max.poll.interval.ms (5 minutes by default). The service polls again as soon as a
slot is free, and every job ends by `crawl_job_timeout_seconds` (Scrapy's CLOSESPIDER_TIMEOUT,
default 240 s), so the gap between polls stays below that interval. A job whose run is already
`done` is skipped, so a re-delivered or re-sent job is crawled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner
from scrapy.utils.reactor import install_reactor, is_asyncio_reactor_installed, is_reactor_installed

from crawler.changes import apply_removals
from crawler.settings import scrapy_settings
from crawler.sink import BusSink, attach_sink
from crawler.spiders import spider_for
from crawler.spiders.base import attach_evidence
from kcnguard.backoff import Backoff
from kcnguard.bus import Bus, Consumer, Message, open_bus
from kcnguard.bus.worker import decode
from kcnguard.errors import RebalancedError, TransientError
from kcnguard.evidence import EvidenceStore, open_evidence
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


class OffsetTracker:
    """Which polled jobs may be committed: a partition's offsets up to its first unfinished one.

    Jobs finish out of order when several run at once; committing a later offset would also
    commit an earlier job still crawling, which a crash would then lose.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[str, int], dict[int, tuple[Message, bool]]] = {}

    def started(self, message: Message) -> None:
        self._pending.setdefault((message.topic, message.partition), {})[message.offset] = (message, False)

    def finished(self, message: Message) -> None:
        partition = self._pending.get((message.topic, message.partition), {})
        # Unknown after a dropped consumer: the job is re-delivered from the last commit (and skipped if done).
        if message.offset in partition:
            partition[message.offset] = (message, True)

    def committable(self) -> list[Message]:
        """For each partition, the last message of its finished prefix (removed from tracking)."""
        ready: list[Message] = []
        for partition in self._pending.values():
            last: Message | None = None
            for offset in sorted(partition):
                message, done = partition[offset]
                if not done:
                    break
                last = message
                del partition[offset]
            if last is not None:
                ready.append(last)
        return ready

    def clear(self) -> None:
        self._pending.clear()


class CrawlerService:
    def __init__(
        self,
        settings: Settings,
        stop: threading.Event,
        bus: Bus | None = None,
        store: Store | None = None,
        evidence: EvidenceStore | None = None,
    ):
        self.settings, self.stop = settings, stop
        self.bus, self.store = bus, store
        self.evidence = evidence or open_evidence(settings)
        self._own_connections = bus is None and store is None
        self.consumer: Consumer | None = None
        self.runner = AsyncCrawlerRunner(scrapy_settings(settings))
        self.finished: list[CrawlRun] = []
        self.inflight: dict[asyncio.Future[Any], Message] = {}
        self.offsets = OffsetTracker()
        # The first error a job raised that must not be committed past; the loop backs off on it.
        self._broken: BaseException | None = None
        # Jobs crawling now by id: a re-sent copy waits for the first, then finds it done and skips.
        self._crawling: dict[str, asyncio.Event] = {}

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
            self.offsets.clear()
        return self.bus, self.store, self.consumer

    def _drop_consumer(self) -> None:
        # A fresh consumer resumes from the last commit, so an unfinished job is delivered again.
        if self.consumer is not None:
            try:
                self.consumer.close()
            except Exception:
                log.debug("closing a broken consumer failed", exc_info=True)
            self.consumer = None
        self.offsets.clear()

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
        log.info(
            "crawler: consuming %s as group %s, up to %d jobs at once",
            CRAWL_JOBS.name,
            GROUP,
            self.settings.crawl_concurrent_jobs,
        )
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
            # Each running crawl sees `stop` and winds down; its job stays uncommitted.
            if self.inflight:
                await asyncio.wait(set(self.inflight))
                self._reap()
            self.close()
            log.info("crawler: stopped")

    async def step(self) -> None:
        _bus, _store, consumer = self._connect()
        self._reap()
        if self._broken is not None:
            if self.inflight:
                await asyncio.wait(set(self.inflight), timeout=_TICK, return_when=asyncio.FIRST_COMPLETED)
                return
            broken, self._broken = self._broken, None
            raise broken
        room = self.settings.crawl_concurrent_jobs - len(self.inflight)
        # The reactor runs the crawls while this thread polls, so a busy service polls without waiting.
        messages = consumer.poll(room, timeout=0.0 if self.inflight else 0.2) if room > 0 else []
        for message in messages:
            self.offsets.started(message)
            self.inflight[asyncio.ensure_future(self.handle(message))] = message
        if messages:
            return
        if self.inflight:
            await asyncio.wait(
                set(self.inflight), timeout=self.settings.worker_poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        else:
            await self._sleep(self.settings.worker_poll_seconds)

    def _reap(self) -> None:
        """Collect finished jobs; commit what is safe to commit."""
        finished = [task for task in self.inflight if task.done()]
        if not finished:
            return
        for task in finished:
            message = self.inflight.pop(task)
            error = task.exception()
            if error is None:
                self.offsets.finished(message)
            elif isinstance(error, Interrupted):
                pass  # uncommitted on purpose: the job comes back after the restart
            else:
                self._broken = self._broken or error
        ready = self.offsets.committable()
        if not ready or self.consumer is None or self.bus is None:
            return
        self.bus.flush()
        try:
            self.consumer.commit(ready)
        except RebalancedError as exc:
            log.warning("crawler: %s; the new owner re-delivers the jobs, which are skipped if done", exc)

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
        while job.job_id in self._crawling:
            await self._crawling[job.job_id].wait()
        self._crawling[job.job_id] = asyncio.Event()
        try:
            return await self._crawl(job)
        finally:
            self._crawling.pop(job.job_id).set()

    async def _crawl(self, job: CrawlJob) -> CrawlRun:
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
        try:
            kwargs = spider_cls.spider_kwargs(self.settings)
        except ValueError as exc:  # a malformed per-marketplace setting: the operator must fix it
            return self._record(run, "failed", str(exc), None, None)
        self.store.put_crawl_run(run)
        log.info(
            "crawler: job %s (%s): %s on %s for %s", job.job_id, job.reason, job.query, job.marketplace, job.brand_id
        )
        sink = BusSink(self.bus)
        crawler = self.runner.create_crawler(spider_cls)
        attach_sink(crawler, sink)
        attach_evidence(crawler, self.evidence)
        task = asyncio.ensure_future(self.runner.crawl(crawler, job=job, **kwargs))
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
        if sink.error is None:
            with contextlib.suppress(TransientError):  # remembered as sink.error, handled next
                sink.drain()
        if sink.error is not None:
            self._record(run, "failed", f"bus unavailable while publishing: {sink.error}", sink, crawler)
            raise sink.error
        self.bus.flush()
        removals = getattr(crawler.spider, "removals", [])
        # Store down here raises TransientError: the job is not committed and its re-check comes back.
        apply_removals(self.store, removals)
        status, reason = _outcome(crawler)
        return self._record(run, status, reason, sink, crawler)

    def _record(self, run: CrawlRun, status: str, reason: str | None, sink: BusSink | None, crawler: Any) -> CrawlRun:
        stats = crawler.stats.get_stats() if crawler is not None else {}
        finished = CrawlRun.model_validate(
            {
                **run.model_dump(),
                "status": status,
                "reason": reason[:2000] if reason else None,
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
    """done, blocked or failed, from what the spider met.

    A block or captcha makes the run `blocked` even after some pages were read: the results are
    incomplete and the marketplace is refusing us, which an operator must see, not a smaller count.
    """
    spider = crawler.spider
    stats = crawler.stats.get_stats()
    pages = int(stats.get("kcnguard/pages", 0))
    failures: list[str] = getattr(spider, "failures", [])
    blocks: list[str] = getattr(spider, "blocks", [])
    blocked: list[int] = getattr(spider, "blocked_statuses", [])
    removals = getattr(spider, "removals", [])
    forbidden = int(stats.get("robotstxt/forbidden", 0))
    if blocks:
        return "blocked", blocks[0] + (f" (after {pages} pages read)" if pages else "")
    if pages == 0 and (forbidden or blocked):
        why = "robots.txt forbids the search page" if forbidden else f"HTTP {blocked[0]} from the marketplace"
        return "blocked", f"{spider.marketplace}: {why}"
    if pages == 0:
        return "failed", failures[0] if failures else f"no page read (finish reason {stats.get('finish_reason')})"
    notes: list[str] = []
    if removals:
        notes.append("; ".join(f"{r.key} gone: {r.reason}" for r in removals))
    if stats.get("finish_reason") == "closespider_timeout":
        notes.append(f"stopped at the job time limit after {pages} pages; the rest waits for the next cycle")
    if failures:
        notes.append(f"{len(failures)} requests failed, first: {failures[0]}")
    return "done", "; ".join(notes) if notes else None


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


def crawl_one(
    job: CrawlJob, settings: Settings, bus: Bus, store: Store, evidence: EvidenceStore | None = None
) -> CrawlRun:
    """Run one job outside the service loop (scripts, tests); starts the reactor, so once per process."""
    service = CrawlerService(settings, threading.Event(), bus=bus, store=store, evidence=evidence)
    return _run_reactor(lambda: service.crawl(job))
