"""The scheduler: one crawl job per brand, marketplace and query, on each brand's interval.

Job ids are deterministic (brand, marketplace, query, time slot), so sending a cycle twice
in one slot sends the same jobs, which the crawler runs once.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from crawler.queries import DEFAULT_BUDGET, expand
from kcnguard.backoff import Backoff
from kcnguard.bus import Bus, open_bus
from kcnguard.errors import TransientError
from kcnguard.heartbeat import EVERY_SECONDS, Heartbeat
from kcnguard.records import Brand, CrawlJob, utcnow
from kcnguard.settings import Settings
from kcnguard.store import Store, open_store
from kcnguard.topics import CRAWL_JOBS

log = logging.getLogger("crawler.scheduler")

_PAGE = 500


def queries_for(brand: Brand, budget: int = DEFAULT_BUDGET) -> list[str]:
    """The brand's names, their forms without diacritics and sellers' disguises, minus its negatives."""
    return expand(brand, budget)


def time_slot(brand: Brand, now: datetime) -> str:
    """The interval the moment falls in, counted from the epoch: same slot, same job ids."""
    interval = brand.crawl_interval_minutes * 60
    return f"{brand.crawl_interval_minutes}m-{int(now.timestamp()) // interval}"


def all_brands(store: Store) -> list[Brand]:
    """The brands to crawl for: those whose owner's trademark rights the Board has verified."""
    brands: list[Brand] = []
    read = 0
    while True:
        page = store.list_brands(size=_PAGE, offset=read)
        read += len(page.items)
        brands.extend(b for b in page.items if b.monitored)
        if not page.items or read >= page.total:
            return brands


def jobs_for(brand: Brand, settings: Settings, now: datetime) -> list[CrawlJob]:
    marketplaces = [m for m in settings.marketplaces if not brand.marketplaces or m in brand.marketplaces]
    slot = time_slot(brand, now)
    return [
        CrawlJob(
            job_id=CrawlJob.make_id(brand.brand_id, marketplace, query, slot),
            brand_id=brand.brand_id,
            marketplace=marketplace,
            query=query,
            max_pages=settings.crawl_max_pages,
            created_at=now,
        )
        for marketplace in marketplaces
        for query in queries_for(brand, settings.crawl_queries_per_brand)
    ]


def schedule_cycle(store: Store, bus: Bus, settings: Settings, now: datetime | None = None) -> list[CrawlJob]:
    """Publish this slot's crawl jobs for every brand and flush; returns the jobs sent."""
    now = now or utcnow()
    jobs = [job for brand in all_brands(store) for job in jobs_for(brand, settings, now)]
    if jobs:
        bus.publish_records(CRAWL_JOBS, jobs, keys=[job.job_id for job in jobs])
        bus.flush()
    log.info("scheduler: %d crawl jobs sent", len(jobs))
    return jobs


def _wait_beating(stop: threading.Event, seconds: float, heartbeat: Heartbeat) -> None:
    """Wait for the next cycle, touching the heartbeat file meanwhile: a long interval is no stuck loop."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        heartbeat.beat()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, 2 * EVERY_SECONDS))


def run(settings: Settings, stop: threading.Event) -> None:
    """Look every scheduler_check_seconds for brands due a crawl until `stop`.

    A brand is due when its own interval has entered a new slot; a job already sent for the
    slot is not sent again, so a brand registered a minute ago is crawled within a minute.
    """
    backoff = Backoff(longest=settings.retry_max_seconds)
    heartbeat = Heartbeat.from_settings(settings)
    store: Store | None = None
    bus: Bus | None = None
    sent: set[str] = set()
    log.info(
        "scheduler: looking for due brands every %ds; marketplaces: %s",
        settings.scheduler_check_seconds,
        ", ".join(settings.marketplaces),
    )
    while not stop.is_set():
        try:
            if store is None:
                store = open_store(settings.store_url, settings.namespace, settings.data_dir)
                store.setup()
            if bus is None:
                bus = open_bus(settings.bus_url, settings.namespace, settings.data_dir)
                bus.ensure_topics()
            now = utcnow()
            jobs = [job for brand in all_brands(store) for job in jobs_for(brand, settings, now)]
            due = [job for job in jobs if job.job_id not in sent]
            if due:
                bus.publish_records(CRAWL_JOBS, due, keys=[job.job_id for job in due])
                bus.flush()
            # Only this cycle's ids can recur (ids carry the slot), so the memory stays one cycle big.
            sent = {job.job_id for job in jobs}
            if due:
                log.info("scheduler: %d new crawl jobs sent", len(due))
            backoff.reset()
            _wait_beating(stop, settings.scheduler_check_seconds, heartbeat)
        except TransientError as exc:
            log.warning("scheduler: %s; retrying", exc)
            backoff.wait(stop)
        except Exception as exc:  # a bad brand document or a bug must not end the scheduler
            log.exception("scheduler: cycle failed: %s: %s; retrying", type(exc).__name__, exc)
            backoff.wait(stop)
    for closeable in (bus, store):
        if closeable is not None:
            closeable.close()
    log.info("scheduler: stopped")
