"""RecordWorker on the embedded bus: good records handled and committed, bad ones dead-lettered, the rest goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcnguard.bus import worker as worker_module
from kcnguard.bus.base import Message
from kcnguard.bus.embedded import EmbeddedBus, EmbeddedConsumer
from kcnguard.bus.worker import RecordWorker
from kcnguard.errors import StoreUnavailable
from kcnguard.records import CrawlJob, DeadLetter, Record
from kcnguard.topics import CRAWL_JOBS, DEAD_LETTER


class _QuickBackoff(worker_module.Backoff):
    def __init__(self, first: float = 0.01, longest: float = 0.05, factor: float = 2.0) -> None:
        super().__init__(first=first, longest=longest, factor=factor)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "Backoff", _QuickBackoff)


@pytest.fixture
def bus(tmp_path: Path, namespace: str) -> Iterator[EmbeddedBus]:
    with EmbeddedBus(tmp_path / "bus.sqlite3", namespace, retention_hours=24) as bus:
        bus.ensure_topics()
        yield bus


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[list[Message]]:
    """Every commit any embedded consumer makes, in order."""
    made: list[list[Message]] = []
    real = EmbeddedConsumer.commit

    def spy(self: EmbeddedConsumer, messages: list[Message]) -> None:
        real(self, messages)
        made.append(list(messages))

    monkeypatch.setattr(EmbeddedConsumer, "commit", spy)
    return made


def job(n: int) -> CrawlJob:
    return CrawlJob(job_id=f"job-{n}", brand_id="vinamilk", marketplace="demo", query=f"sữa {n}")


def run_until_settled(worker: RecordWorker, count: int, rounds: int = 40) -> int:
    settled = 0
    for _ in range(rounds):
        if settled >= count:
            break
        settled += worker.run_once()
    return settled


def remaining(bus: EmbeddedBus, group: str) -> list[Message]:
    """What a new member of `group` would still be given: everything not committed."""
    with bus.subscribe(group, [CRAWL_JOBS]) as consumer:
        return consumer.poll(500, 0.3)


def dead_letters(bus: EmbeddedBus) -> list[DeadLetter]:
    with bus.subscribe("dead-letter-reader", [DEAD_LETTER]) as consumer:
        return [DeadLetter.model_validate_json(m.value) for m in consumer.poll(500, 0.3)]


def test_valid_records_are_handled_and_committed(bus: EmbeddedBus, commits: list[list[Message]]) -> None:
    bus.publish_records(CRAWL_JOBS, [job(i) for i in range(5)], keys=[f"k{i}" for i in range(5)])
    seen: list[Record] = []
    worker = RecordWorker(bus, "crawler", CRAWL_JOBS, seen.extend, poll_seconds=0.2)
    try:
        assert run_until_settled(worker, 5) == 5
    finally:
        worker.close()
    assert sorted(r.job_id for r in seen) == [f"job-{i}" for i in range(5)]  # type: ignore[attr-defined]
    assert worker.stats.handled == 5 and worker.stats.dead_lettered == 0
    assert sum(len(batch) for batch in commits) == 5
    assert remaining(bus, "crawler") == []
    assert dead_letters(bus) == []


def test_malformed_and_invalid_messages_are_dead_lettered_and_the_worker_goes_on(bus: EmbeddedBus) -> None:
    broken = b'{"job_id": "job-x", "brand_id": '  # cut off mid-way
    invalid = b'{"job_id": "job-y", "brand_id": "NOT A SLUG", "marketplace": "demo", "query": "q"}'
    bus.publish_many(CRAWL_JOBS, [(b"a", broken), (b"b", invalid), (b"c", job(1).to_json())])
    seen: list[Record] = []
    worker = RecordWorker(bus, "crawler", CRAWL_JOBS, seen.extend, name="crawler-1", poll_seconds=0.2)
    try:
        assert run_until_settled(worker, 3) == 3
    finally:
        worker.close()
    assert [r.job_id for r in seen] == ["job-1"]  # type: ignore[attr-defined]
    assert worker.stats.handled == 1 and worker.stats.dead_lettered == 2
    letters = {letter.raw: letter for letter in dead_letters(bus)}
    assert set(letters) == {broken, invalid}
    assert "not a valid CrawlJob" in letters[broken].reason and "JSON" in letters[broken].reason
    assert "brand_id" in letters[invalid].reason
    assert letters[invalid].source == CRAWL_JOBS.name
    assert letters[invalid].key == "b"
    assert letters[invalid].worker == "crawler-1"
    assert letters[invalid].offset is not None and letters[invalid].partition is not None
    assert remaining(bus, "crawler") == []


def test_transient_failure_is_retried_with_nothing_committed_meanwhile(
    bus: EmbeddedBus, commits: list[list[Message]]
) -> None:
    bus.publish_records(CRAWL_JOBS, [job(1), job(2)])
    calls: list[int] = []

    def flaky(records: list[Record]) -> None:
        calls.append(len(records))
        assert commits == []  # the batch is not acknowledged while it is being retried
        if len(calls) <= 2:
            raise StoreUnavailable("store is down")

    worker = RecordWorker(bus, "scorer", CRAWL_JOBS, flaky, poll_seconds=0.2)
    try:
        assert run_until_settled(worker, 2) == 2
    finally:
        worker.close()
    assert len(calls) == 3 and sum(calls) >= 2
    assert worker.stats.retries == 2 and worker.stats.handled == 2 and worker.stats.dead_lettered == 0
    assert sum(len(batch) for batch in commits) == 2
    assert remaining(bus, "scorer") == []


def test_a_record_the_handler_rejects_is_dead_lettered_alone(bus: EmbeddedBus) -> None:
    bus.publish_records(CRAWL_JOBS, [job(i) for i in range(4)], keys=["same"] * 4)
    handled: list[str] = []

    def picky(records: list[Record]) -> None:
        if any(r.job_id == "job-2" for r in records):  # type: ignore[attr-defined]
            raise ValueError("job-2 names a marketplace we cannot crawl")
        handled.extend(r.job_id for r in records)  # type: ignore[attr-defined]

    worker = RecordWorker(bus, "crawler", CRAWL_JOBS, picky, poll_seconds=0.2)
    try:
        assert run_until_settled(worker, 4) == 4
    finally:
        worker.close()
    assert sorted(handled) == ["job-0", "job-1", "job-3"]
    letters = dead_letters(bus)
    assert len(letters) == 1
    assert CrawlJob.model_validate_json(letters[0].raw).job_id == "job-2"
    assert letters[0].reason.startswith("handler failed: ValueError: job-2 names")
    assert worker.stats.handled == 3 and worker.stats.dead_lettered == 1
    assert remaining(bus, "crawler") == []


def test_stop_ends_run(bus: EmbeddedBus) -> None:
    bus.publish_records(CRAWL_JOBS, [job(1)])
    stop = threading.Event()
    seen: list[Record] = []
    worker = RecordWorker(bus, "crawler", CRAWL_JOBS, seen.extend, poll_seconds=0.1, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    end = time.monotonic() + 10
    while not seen and time.monotonic() < end:
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert len(seen) == 1
    assert worker._consumer is None  # run() closed its consumer on the way out


def test_stop_during_retries_ends_run_and_commits_nothing(bus: EmbeddedBus) -> None:
    pending = job(1)
    bus.publish_records(CRAWL_JOBS, [pending])
    stop = threading.Event()
    attempts: list[int] = []

    def down(records: list[Record]) -> None:
        attempts.append(len(records))
        raise StoreUnavailable("store is down")

    worker = RecordWorker(bus, "crawler", CRAWL_JOBS, down, poll_seconds=0.1, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    end = time.monotonic() + 10
    while len(attempts) < 3 and time.monotonic() < end:
        time.sleep(0.02)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert worker.stats.handled == 0
    assert [m.value for m in remaining(bus, "crawler")] == [pending.to_json()]  # comes back, nothing lost
