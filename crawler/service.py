"""The crawler service: the loop that takes crawl jobs from the bus, runs them, and commits their offsets.

One Twisted reactor (crawler.reactor) runs in the calling thread for the life of the service;
every bus and store call is made from that thread, between or after crawls. Up to
`crawl_concurrent_jobs` jobs crawl at once (crawler.job, one Scrapy crawler each, sharing the
reactor; per-domain concurrency and AutoThrottle hold per crawler).

Long crawls and redelivery: a job's offset is committed only after its crawl finished and its
items are durable on the bus, and only once every earlier job of its partition is finished too
(crawler.offsets), so a crash or a shutdown mid-crawl re-delivers exactly the unfinished jobs. The
consumer stays a live group member while jobs run: the embedded bus heartbeats from a thread,
and Kafka's consumer heartbeats from its own thread but leaves the group when `poll` is not
called within max.poll.interval.ms (5 minutes by default). The service polls again as soon as a
slot is free, and every job ends by `crawl_job_timeout_seconds` (Scrapy's CLOSESPIDER_TIMEOUT,
default 240 s), so the gap between polls stays below that interval.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from crawler.job import Interrupted, JobRunner
from crawler.offsets import OffsetTracker
from crawler.pause import TICK, pause
from crawler.reactor import run_reactor
from kcnguard.backoff import Backoff
from kcnguard.bus import Bus, Consumer, Message, open_bus
from kcnguard.bus.worker import decode
from kcnguard.errors import RebalancedError, TransientError
from kcnguard.evidence import EvidenceStore, open_evidence
from kcnguard.heartbeat import Heartbeat
from kcnguard.process import is_disk_full
from kcnguard.records import CrawlJob, CrawlRun, DeadLetter
from kcnguard.settings import POLL_MARGIN_SECONDS, Settings
from kcnguard.store import Store, open_store
from kcnguard.topics import CRAWL_JOBS, DEAD_LETTER

log = logging.getLogger("crawler.service")

GROUP = "crawler"


class CrawlerService:
    """Polls crawl jobs, runs up to `crawl_concurrent_jobs` at once, commits each partition's finished prefix."""

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
        self._own_connections = bus is None and store is None
        self.consumer: Consumer | None = None
        self.jobs = JobRunner(settings, stop, evidence or open_evidence(settings))
        self.inflight: dict[asyncio.Future[Any], Message] = {}
        self.offsets = OffsetTracker()
        # The first error a job raised that must not be committed past; the loop backs off on it.
        self._broken: BaseException | None = None
        # Touched on every step, busy or idle, like the bus workers': what liveness probes look at.
        self.heartbeat = Heartbeat.from_settings(settings)

    # Connections ------------------------------------------------------------------------------

    def _connect(self) -> tuple[Bus, Store, Consumer]:
        if self.bus is None:
            self.bus = open_bus(self.settings.bus_url, self.settings.namespace, self.settings.data_dir)
            self.bus.ensure_topics()
        if self.store is None:
            self.store = open_store(self.settings.store_url, self.settings.namespace, self.settings.data_dir)
            self.store.setup()
        if self.consumer is None:
            # The service may go a whole crawl without polling (every slot busy): that is its longest batch.
            self.consumer = self.bus.subscribe(
                GROUP,
                [CRAWL_JOBS],
                client_id="crawler",
                max_poll_seconds=self.settings.crawl_job_timeout_seconds + POLL_MARGIN_SECONDS,
            )
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
                    if is_disk_full(exc):  # at start-up or later: it passes once space is freed, so no traceback
                        log.warning("crawler: đĩa đầy / disk full (%s): free space; retrying in %.1fs", exc, delay)
                    else:
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
        self.heartbeat.beat()
        _bus, _store, consumer = self._connect()
        self._reap()
        if self._broken is not None:
            if self.inflight:
                await asyncio.wait(set(self.inflight), timeout=TICK, return_when=asyncio.FIRST_COMPLETED)
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
        assert self.bus is not None and self.store is not None
        try:
            job = decode(CRAWL_JOBS, message)
        except ValueError as exc:
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
        await self.jobs.crawl(job, self.bus, self.store)

    async def _sleep(self, seconds: float) -> None:
        await pause(seconds, lambda: not self.stop.is_set())


def run(settings: Settings, stop: threading.Event) -> None:
    """The crawler service: crawl jobs from the bus until `stop` is set. Call in the main thread."""
    service = CrawlerService(settings, stop)
    run_reactor(service.serve)


def crawl_one(
    job: CrawlJob, settings: Settings, bus: Bus, store: Store, evidence: EvidenceStore | None = None
) -> CrawlRun:
    """Run one job outside the service loop (scripts, tests); starts the reactor, so once per process."""
    runner = JobRunner(settings, threading.Event(), evidence or open_evidence(settings))
    return run_reactor(lambda: runner.crawl(job, bus, store))
