"""One contract for every bus backend: what a service may rely on, whichever bus it runs on.

The embedded backend always runs; Kafka runs when KCNGUARD_TEST_KAFKA points at a broker.
Each test has its own namespace (so its own topics and groups), commits explicitly and
closes its consumers, because a consumer that leaves a Kafka group uncleanly can hold
that group up.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kcnguard.bus import Bus, Consumer, Message
from kcnguard.bus.embedded import EmbeddedBus, partition_for
from kcnguard.bus.kafka import KafkaBus
from kcnguard.errors import BusUnavailable, RebalancedError
from kcnguard.records import CrawlJob, DeadLetter
from kcnguard.topics import CASE_EVENTS, CRAWL_JOBS, DEAD_LETTER, RAW_LISTINGS
from tests.conftest import ROOT, kafka_url

DEADLINE = 20.0  # seconds a Kafka group may take to settle; the embedded bus needs far less

BACKENDS = [
    "embedded",
    pytest.param(
        "kafka",
        marks=[
            pytest.mark.kafka,
            pytest.mark.skipif(
                not kafka_url(), reason="KCNGUARD_TEST_KAFKA is unset (e.g. kafka://127.0.0.1:9092): Kafka skipped"
            ),
        ],
    ),
]


@dataclass
class Backend:
    name: str
    url: str
    namespace: str
    open: Callable[..., Bus]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Backend]:
    opened: list[Bus] = []
    path = tmp_path / "bus.sqlite3"

    def open_bus(**options: object) -> Bus:
        if request.param == "embedded":
            bus: Bus = EmbeddedBus(path, namespace, retention_hours=24, **options)  # type: ignore[arg-type]
        else:
            bus = KafkaBus(str(kafka_url()).split("://", 1)[1], namespace, **options)  # type: ignore[arg-type]
        opened.append(bus)
        return bus

    url = f"embedded://{path}" if request.param == "embedded" else str(kafka_url())
    yield Backend(request.param, url, namespace, open_bus)
    for bus in opened:
        bus.close()


@pytest.fixture
def bus(backend: Backend) -> Bus:
    bus = backend.open()
    bus.ensure_topics([CRAWL_JOBS, RAW_LISTINGS, CASE_EVENTS, DEAD_LETTER])
    return bus


def collect(consumer: Consumer, count: int, commit: bool = True, deadline: float = DEADLINE) -> list[Message]:
    """Poll until `count` messages came (or the deadline passed), committing each batch."""
    got: list[Message] = []
    end = time.monotonic() + deadline
    while len(got) < count and time.monotonic() < end:
        batch = consumer.poll(500, 0.5)
        if batch and commit:
            consumer.commit(batch)
        got.extend(batch)
    return got


def settle(*consumers: Consumer, deadline: float = DEADLINE) -> list[list[Message]]:
    """Poll each consumer from its own thread, as separate workers would, until all hold partitions.

    Returns what each consumer received meanwhile. (One thread taking turns would not do for
    Kafka: kafka-python 3.0.12 drops a JoinGroup answer that arrives between two polls of a
    member and joins again, so members polled in turn rebalance forever.)
    """
    got: list[list[Message]] = [[] for _ in consumers]
    end = time.monotonic() + deadline

    def settled() -> bool:
        return all(c.assignment for c in consumers)  # type: ignore[attr-defined]

    def run(i: int, consumer: Consumer) -> None:
        while time.monotonic() < end and not settled():
            got[i].extend(consumer.poll(500, 0.2))
        for _ in range(3):
            got[i].extend(consumer.poll(500, 0.3))

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got


def values(messages: list[Message]) -> list[bytes]:
    return [m.value for m in messages]


def test_round_trip_keeps_keys_headers_and_logical_topic(bus: Bus) -> None:
    bus.publish(CRAWL_JOBS, b"first", key=b"brand-a", headers={"record": "CrawlJob", "note": "thử nghiệm"})
    bus.publish_many(CRAWL_JOBS, [(None, b"second"), (b"brand-b", b"third")])
    bus.flush()
    with bus.subscribe("round-trip", [CRAWL_JOBS]) as consumer:
        got = {m.value: m for m in collect(consumer, 3)}
    assert set(got) == {b"first", b"second", b"third"}
    first = got[b"first"]
    assert first.topic == CRAWL_JOBS.name
    assert first.key == b"brand-a"
    assert first.headers == {"record": "CrawlJob", "note": "thử nghiệm"}
    assert first.timestamp > 0
    assert got[b"second"].key is None
    assert got[b"second"].headers == {}


def test_messages_of_one_key_keep_their_order_in_one_partition(bus: Bus) -> None:
    keys = [f"listing-{k}".encode() for k in range(6)]
    bus.publish_many(RAW_LISTINGS, [(keys[i % 6], f"{i % 6}:{i}".encode()) for i in range(300)])
    bus.flush()
    with bus.subscribe("ordering", [RAW_LISTINGS]) as consumer:
        got = collect(consumer, 300)
    assert len(got) == 300
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    sequence_of_key: dict[bytes, list[int]] = defaultdict(list)
    offsets_of_partition: dict[int, list[int]] = defaultdict(list)
    for message in got:
        assert message.key is not None
        partitions_of_key[message.key].add(message.partition)
        sequence_of_key[message.key].append(int(message.value.split(b":")[1]))
        offsets_of_partition[message.partition].append(message.offset)
    assert all(len(parts) == 1 for parts in partitions_of_key.values())
    assert all(seq == sorted(seq) and len(seq) == 50 for seq in sequence_of_key.values())
    assert all(offs == sorted(offs) and len(set(offs)) == len(offs) for offs in offsets_of_partition.values())


_PUBLISHER = """
import sys
from kcnguard.bus import open_bus
url, namespace, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_bus(url, namespace=namespace) as bus:
    items = [(f"k{i % 7}".encode(), f"child-{i}".encode()) for i in range(count)]
    bus.publish_many("crawl-jobs", items, {"from": "child"})
    bus.flush()
"""

_CONSUMER = """
import sys
from kcnguard.bus import open_bus
url, namespace, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open_bus(url, namespace=namespace) as bus, bus.subscribe("cross-process", ["crawl-jobs"]) as consumer:
    seen = 0
    for _ in range(200):
        batch = consumer.poll(500, 0.2)
        if batch:
            consumer.commit(batch)
            seen += len(batch)
        if seen >= want:
            break
print(seen)
"""


def _run_child(script: str, backend: Backend, tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KCNGUARD_DATA_DIR": str(tmp_path / "child")}
    done = subprocess.run(
        [sys.executable, "-c", script, backend.url, backend.namespace, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_what_one_process_publishes_another_consumes(bus: Bus, backend: Backend, tmp_path: Path) -> None:
    _run_child(_PUBLISHER, backend, tmp_path, "50")
    with bus.subscribe("cross-process", [CRAWL_JOBS]) as consumer:
        got = collect(consumer, 50)
    assert sorted(values(got)) == sorted(f"child-{i}".encode() for i in range(50))
    assert all(m.headers == {"from": "child"} for m in got)
    # And the other way: this process publishes, a child of the same group sees only the new ones.
    bus.publish_many(CRAWL_JOBS, [(None, f"parent-{i}".encode()) for i in range(10)])
    bus.flush()
    assert _run_child(_CONSUMER, backend, tmp_path, "10").strip() == "10"


def test_committed_offsets_survive_reopening_and_uncommitted_come_back(bus: Bus, backend: Backend) -> None:
    bus.publish_many(CASE_EVENTS, [(f"case-{i % 5}".encode(), f"event-{i}".encode()) for i in range(40)])
    bus.flush()
    with bus.subscribe("survivor", [CASE_EVENTS]) as first:
        got = collect(first, 40, commit=False)
        assert len(got) == 40
        # Commit the first half of each partition: all before a committed offset counts as done.
        by_partition: dict[int, list[Message]] = defaultdict(list)
        for message in got:
            by_partition[message.partition].append(message)
        done = [m for ms in by_partition.values() for m in sorted(ms, key=lambda m: m.offset)[: len(ms) // 2]]
        first.commit(done)
    bus.close()

    reopened = backend.open()
    with reopened.subscribe("survivor", [CASE_EVENTS]) as second:
        again = collect(second, 40 - len(done))
        again += settle(second)[0]
    assert sorted(values(again)) == sorted(set(values(got)) - set(values(done)))
    with reopened.subscribe("survivor", [CASE_EVENTS]) as third:
        assert settle(third) == [[]]


def test_every_group_sees_every_message(bus: Bus) -> None:
    bus.publish_many(RAW_LISTINGS, [(f"k{i}".encode(), f"v{i}".encode()) for i in range(30)])
    bus.flush()
    with bus.subscribe("classifier", [RAW_LISTINGS]) as one, bus.subscribe("archiver", [RAW_LISTINGS]) as other:
        assert sorted(values(collect(one, 30))) == sorted(f"v{i}".encode() for i in range(30))
        assert sorted(values(collect(other, 30))) == sorted(f"v{i}".encode() for i in range(30))


def test_members_of_one_group_split_the_partitions_and_see_each_message_once(bus: Bus) -> None:
    with bus.subscribe("pair", [RAW_LISTINGS], client_id="a") as a, bus.subscribe("pair", [RAW_LISTINGS]) as b:
        assert settle(a, b) == [[], []]
        assert a.assignment and b.assignment  # type: ignore[attr-defined]
        assert not a.assignment & b.assignment  # type: ignore[attr-defined]
        assert a.assignment | b.assignment == {(RAW_LISTINGS.name, p) for p in range(4)}  # type: ignore[attr-defined]

        bus.publish_many(RAW_LISTINGS, [(f"listing-{i}".encode(), f"v{i}".encode()) for i in range(80)])
        bus.flush()
        got: dict[str, list[Message]] = {"a": [], "b": []}
        end = time.monotonic() + DEADLINE
        while len(got["a"]) + len(got["b"]) < 80 and time.monotonic() < end:
            for name, consumer in (("a", a), ("b", b)):
                batch = consumer.poll(500, 0.2)
                if batch:
                    consumer.commit(batch)
                got[name].extend(batch)
    both = got["a"] + got["b"]
    assert got["a"] and got["b"]
    assert sorted(values(both)) == sorted(f"v{i}".encode() for i in range(80))  # every one, exactly once
    assert not {m.partition for m in got["a"]} & {m.partition for m in got["b"]}


def test_a_member_with_a_backlog_on_every_partition_reads_them_in_turn(bus: Bus, backend: Backend) -> None:
    """No partition waits until another is drained: within one batch per partition, each has been read."""
    if backend.name == "kafka":
        pytest.skip(
            "not yet on Kafka: kafka-python 3.0.12 hands out one partition's fetch before the next, and pausing"
            " the partitions that had their share stalled the consumer (367 of 400 records, then nothing)"
        )
    bus.publish_many(RAW_LISTINGS, [(f"listing-{i}".encode(), f"v{i}".encode()) for i in range(400)])
    bus.flush()
    batches: list[list[Message]] = []
    with bus.subscribe("fair", [RAW_LISTINGS]) as consumer:
        end = time.monotonic() + DEADLINE
        while len(batches) < 4 and time.monotonic() < end:
            if batch := consumer.poll(20, 0.5):
                batches.append(batch)
                consumer.commit(batch)
    backlog = {p for p in range(4)}
    assert len(batches) == 4
    assert all(len(b) == 20 for b in batches)
    assert {m.partition for b in batches for m in b} == backlog, [sorted({m.partition for m in b}) for b in batches]


def test_commit_after_losing_a_partition_raises_rebalanced(bus: Bus) -> None:
    bus.publish_many(CRAWL_JOBS, [(None, f"job-{i}".encode()) for i in range(20)])
    bus.flush()
    with bus.subscribe("rebalance", [CRAWL_JOBS]) as a:
        batch = collect(a, 20, commit=False)
        assert len(batch) == 20
        with bus.subscribe("rebalance", [CRAWL_JOBS]) as b:
            # a may get its kept partitions again (Kafka re-assigns them), which is not the point here.
            redelivered = settle(a, b)[1]
            with pytest.raises(RebalancedError):
                a.commit(batch)
            # What b took over comes again to b, from the group's committed offsets.
            lost = {p for _, p in b.assignment}  # type: ignore[attr-defined]
            expected = sorted(values([m for m in batch if m.partition in lost]))
            redelivered += collect(b, len(expected) - len(redelivered))
            assert lost and sorted(values(redelivered)) == expected


def test_publish_records_checks_the_record_type_and_round_trips(bus: Bus) -> None:
    letter = DeadLetter.of(b"\xff not json", "broken", source="listings-raw")
    with pytest.raises(TypeError, match="CrawlJob"):
        bus.publish_records(CRAWL_JOBS, [letter])  # type: ignore[list-item]
    job = CrawlJob(job_id="job-1", brand_id="vinamilk", marketplace="demo", query="sữa Vinamilk")
    bus.publish_records(CRAWL_JOBS, [job], keys=["vinamilk"])
    bus.flush()
    with bus.subscribe("records", [CRAWL_JOBS]) as consumer:
        got = collect(consumer, 1) + settle(consumer)[0]
    assert len(got) == 1  # the refused letter was not published
    assert CrawlJob.model_validate_json(got[0].value) == job
    assert got[0].key == b"vinamilk"
    assert got[0].headers == {"record": "CrawlJob", "schema_version": "1"}


def test_ensure_topics_is_idempotent(backend: Backend) -> None:
    bus = backend.open()
    bus.ensure_topics()
    bus.ensure_topics()
    backend.open().ensure_topics([DEAD_LETTER])
    bus.publish(DEAD_LETTER, b"x")
    bus.flush()
    with bus.subscribe("idempotent", [DEAD_LETTER]) as consumer:
        assert values(collect(consumer, 1)) == [b"x"]


def test_threads_may_share_one_bus(bus: Bus) -> None:
    def publish(thread: int) -> None:
        for start in range(0, 200, 50):
            bus.publish_many(
                RAW_LISTINGS, [(f"k{i}".encode(), f"{thread}-{i}".encode()) for i in range(start, start + 50)]
            )

    threads = [threading.Thread(target=publish, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bus.flush()
    with bus.subscribe("threads", [RAW_LISTINGS]) as consumer:
        got = collect(consumer, 800)
    assert sorted(values(got)) == sorted(f"{t}-{i}".encode() for t in range(4) for i in range(200))
    assert len({(m.partition, m.offset) for m in got}) == 800


def test_a_value_that_is_not_bytes_is_refused(bus: Bus) -> None:
    with pytest.raises(TypeError):
        bus.publish_many(CRAWL_JOBS, [(None, "text, not bytes")])  # type: ignore[list-item]


# -- the embedded backend's own promises


def test_embedded_partition_of_a_key_is_stable_across_processes() -> None:
    here = [partition_for(f"key-{i}".encode(), 4) for i in range(20)]
    code = (
        "from kcnguard.bus.embedded import partition_for\n"
        "print([partition_for(f'key-{i}'.encode(), 4) for i in range(20)])"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "123"}
    there = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert str(here) == there.strip()
    assert len(set(here)) == 4


def test_embedded_member_closing_releases_its_partitions_at_once(tmp_path: Path, namespace: str) -> None:
    # A session timeout of an hour: b can only get the partitions because a gave them up.
    with EmbeddedBus(tmp_path / "bus.db", namespace, session_timeout=3600, retention_hours=1) as bus:
        a = bus.subscribe("g", [CRAWL_JOBS])
        b = bus.subscribe("g", [CRAWL_JOBS])
        settle(a, b, deadline=5)
        assert len(b.assignment) == 2  # type: ignore[attr-defined]
        a.close()
        settle(b, deadline=5)
        assert len(b.assignment) == 4  # type: ignore[attr-defined]
        b.close()


def test_embedded_dead_members_leases_expire(tmp_path: Path, namespace: str) -> None:
    path = tmp_path / "bus.db"
    with EmbeddedBus(path, namespace, session_timeout=1.0, retention_hours=1) as bus:
        bus.publish_many(CRAWL_JOBS, [(None, f"j{i}".encode()) for i in range(8)])
        script = (
            "import sys,time\nfrom kcnguard.bus.embedded import EmbeddedBus\n"
            f"bus = EmbeddedBus({str(path)!r}, {namespace!r})\n"
            "c = bus.subscribe('g', ['crawl-jobs'])\n"
            "while len(c.assignment) < 4: c.poll(10, 0.1)\n"
            "print('holding', flush=True)\ntime.sleep(600)\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "holding"
            with bus.subscribe("g", [CRAWL_JOBS]) as survivor:
                assert survivor.poll(10, 0.3) == []  # the child holds every partition
                child.send_signal(signal.SIGKILL)
                child.wait(10)
                got = collect(survivor, 8, deadline=10)
                assert sorted(values(got)) == sorted(f"j{i}".encode() for i in range(8))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)


def test_embedded_locked_file_is_bus_unavailable(tmp_path: Path, namespace: str) -> None:
    path = tmp_path / "bus.db"
    with EmbeddedBus(path, namespace, busy_timeout=0.2, retention_hours=1) as bus:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(BusUnavailable, match="locked"):
                bus.publish(CRAWL_JOBS, b"x")
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        bus.publish(CRAWL_JOBS, b"y")  # and it recovers once the lock is gone


def test_embedded_retention_deletes_old_messages_and_keeps_offsets_growing(tmp_path: Path, namespace: str) -> None:
    path = tmp_path / "bus.db"
    with EmbeddedBus(path, namespace, partitions=1, retention_hours=1) as bus:
        bus.publish_many(CRAWL_JOBS, [(None, b"old-1"), (None, b"old-2")])
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE messages SET ts = ts - 7200")
        bus._next_expiry = 0.0  # the minute between sweeps has passed
        bus.publish(CRAWL_JOBS, b"new")
        with bus.subscribe("g", [CRAWL_JOBS]) as consumer:
            got = collect(consumer, 1, deadline=3)
    assert [(m.value, m.offset) for m in got] == [(b"new", 2)]


def test_kafka_broker_down_is_bus_unavailable_not_a_hang() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bus = KafkaBus(f"127.0.0.1:{port}", "down", timeout=1.0)
    try:
        with pytest.raises(BusUnavailable, match=r"127\.0\.0\.1"):
            bus.publish(CRAWL_JOBS, b"x")
        with pytest.raises(BusUnavailable):
            bus.subscribe("g", [CRAWL_JOBS])
        with pytest.raises(BusUnavailable):
            bus.ensure_topics([CRAWL_JOBS])
    finally:
        bus.close()
