"""The scheduler: one job per brand × marketplace × query, with ids that are stable within a slot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler import scheduler
from crawler.scheduler import queries_for, schedule_cycle
from demo.catalogue import load_brands
from kcnguard.bus import Bus, open_bus
from kcnguard.records import Brand, CrawlJob
from kcnguard.settings import Settings
from kcnguard.store import Store, open_document_store
from kcnguard.topics import CRAWL_JOBS

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, namespace: str) -> Iterator[Store]:
    store = Store(open_document_store(f"sqlite://{tmp_path}/store.sqlite3", namespace=namespace))
    store.setup()
    yield store
    store.close()


@pytest.fixture
def bus(tmp_path: Path, namespace: str) -> Iterator[Bus]:
    bus = open_bus(f"embedded://{tmp_path}/bus.sqlite3", namespace=namespace)
    bus.ensure_topics()
    yield bus
    bus.close()


def _brand(**changes: object) -> Brand:
    base = {"brand_id": "b1", "owner_id": "o1", "owner_name": "Công ty A", "name": "Sen Hồng"}
    return Brand.model_validate({**base, **changes})


def _sent(bus: Bus) -> list[CrawlJob]:
    with bus.subscribe("test-reader", [CRAWL_JOBS]) as consumer:
        jobs: list[CrawlJob] = []
        while batch := consumer.poll(500, timeout=0.5):
            jobs.extend(CrawlJob.model_validate_json(m.value) for m in batch)
        return jobs


def test_queries_are_deduped_across_case_and_accents_minus_negatives() -> None:
    brand = _brand(aliases=["Sen Hong", "SEN HỒNG", "SenHong Cosmetics", "hoa sen hồng giả"], negative_keywords=["hoa"])
    assert queries_for(brand) == ["Sen Hồng", "Sen Hong", "SenHong Cosmetics", "SenHong", "SenHongCosmetics"]


def test_one_job_per_brand_marketplace_and_query(store: Store, bus: Bus) -> None:
    brands = load_brands()
    for brand in brands:
        store.put_brand(brand)
    store.refresh()
    settings = Settings(crawl_marketplaces="demo,shopee-vn", crawl_max_pages=2)
    jobs = schedule_cycle(store, bus, settings, now=NOW)
    expected = {
        (b.brand_id, m, q)
        for b in brands
        for m in ("demo", "shopee-vn")
        if not b.marketplaces or m in b.marketplaces
        for q in queries_for(b)
    }
    assert {(j.brand_id, j.marketplace, j.query) for j in jobs} == expected
    assert len(jobs) == len(expected) == len({j.job_id for j in jobs})
    assert all(j.max_pages == 2 and j.reason == "scheduled" for j in jobs)
    # vinastep watches only the demo marketplace; sen-hong watches every configured one
    assert {j.marketplace for j in jobs if j.brand_id == "vinastep"} == {"demo"}
    assert {j.marketplace for j in jobs if j.brand_id == "sen-hong"} == {"demo", "shopee-vn"}
    assert sorted(j.job_id for j in _sent(bus)) == sorted(j.job_id for j in jobs)


def test_same_slot_same_ids_next_slot_new_ids(store: Store, bus: Bus) -> None:
    store.put_brand(_brand(crawl_interval_minutes=60))
    store.refresh()
    settings = Settings(crawl_marketplaces="demo")
    first = [j.job_id for j in schedule_cycle(store, bus, settings, now=NOW)]
    again = [j.job_id for j in schedule_cycle(store, bus, settings, now=NOW + timedelta(minutes=20))]
    later = [j.job_id for j in schedule_cycle(store, bus, settings, now=NOW + timedelta(minutes=60))]
    assert first == again and first
    assert not set(first) & set(later)
    assert first[0] == CrawlJob.make_id("b1", "demo", "Sen Hồng", f"60m-{int(NOW.timestamp()) // 3600}")


def test_no_brands_no_jobs(store: Store, bus: Bus) -> None:
    assert schedule_cycle(store, bus, Settings(), now=NOW) == []


def test_run_sends_each_slot_once_and_stops(
    tmp_path: Path, namespace: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_brand(_brand())
    store.refresh()
    settings = Settings(
        data_dir=tmp_path,
        bus_url=f"embedded://{tmp_path}/bus.sqlite3",
        store_url=f"sqlite://{tmp_path}/store.sqlite3",
        namespace=namespace,
        scheduler_check_seconds=10,
    )
    stop = threading.Event()
    cycles: list[int] = []
    real = scheduler.all_brands

    def counting(store: Store) -> list[Brand]:
        cycles.append(1)
        if len(cycles) >= 2:
            stop.set()
        return real(store)

    monkeypatch.setattr(scheduler, "all_brands", counting)
    # Two cycles back to back in one slot: the second finds nothing new to send.
    scheduler.run(settings.model_copy(update={"scheduler_check_seconds": 0}), stop)
    assert len(cycles) == 2
    bus = open_bus(settings.bus_url, namespace=namespace)
    try:
        assert sorted(j.query for j in _sent(bus)) == sorted(["Sen Hồng", "Sen Hong", "SenHong"])
    finally:
        bus.close()


def test_a_brand_registered_while_the_scheduler_runs_is_sent_at_its_next_check(
    tmp_path: Path, namespace: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        bus_url=f"embedded://{tmp_path}/bus.sqlite3",
        store_url=f"sqlite://{tmp_path}/store.sqlite3",
        namespace=namespace,
    )
    stop = threading.Event()
    checks: list[int] = []
    real = scheduler.all_brands

    def register_after_first_check(store: Store) -> list[Brand]:
        checks.append(1)
        if len(checks) == 2:
            store.put_brand(_brand())
        if len(checks) >= 3:
            stop.set()
        return real(store)

    monkeypatch.setattr(scheduler, "all_brands", register_after_first_check)
    scheduler.run(settings.model_copy(update={"scheduler_check_seconds": 0}), stop)
    bus = open_bus(settings.bus_url, namespace=namespace)
    try:
        assert sorted(j.query for j in _sent(bus)) == sorted(["Sen Hồng", "Sen Hong", "SenHong"])
    finally:
        bus.close()
