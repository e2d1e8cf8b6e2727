"""One backend under test: its settings, the service processes it runs, and the counts a scenario reports."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from classifier.seed_data import seed_brands
from classifier.training.default_model import ensure_current
from kcnguard.bus import Bus, open_bus
from kcnguard.errors import TransientError
from kcnguard.records import CaseState, Listing
from kcnguard.store import open_store
from kcnguard.topics import ALL, DEAD_LETTER, RAW_LISTINGS

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass
class Counts:
    lost: int = 0
    duplicated: int = 0
    dead_lettered: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Noida:
    """The noida-db test server behind the Kafka + Elasticsearch backend, so a scenario can stop and start it."""

    data_dir: Path
    binary: str = str(Path(sys.executable).with_name("noida-db"))

    def _run(self, *args: str) -> None:
        subprocess.run([self.binary, *args, "--data-dir", str(self.data_dir)], check=True, capture_output=True)

    def stop(self, service: str) -> None:
        self._run("stop", service)

    def start(self, service: str) -> None:
        self._run("start", service)


class Stack:
    def __init__(self, backend: str, root: Path, bus_url: str, store_url: str, noida: Noida | None = None) -> None:
        self.backend, self.noida = backend, noida
        self.namespace = "f" + uuid.uuid4().hex[:10]
        self.root = root / self.namespace
        self.data_dir = self.root / "data"
        self.bus_url, self.store_url = bus_url, store_url
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.data_dir.mkdir(parents=True)
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "KCNGUARD_DATA_DIR": str(self.data_dir),
            "KCNGUARD_BUS_URL": bus_url,
            "KCNGUARD_STORE_URL": store_url,
            "KCNGUARD_NAMESPACE": self.namespace,
            "KCNGUARD_WORKER_BATCH_SIZE": "50",
            "KCNGUARD_WORKER_POLL_SECONDS": "0.2",
            "KCNGUARD_RETRY_MAX_SECONDS": "2",
            # 50 x 0.1 s + 10 s = 15 s between polls at most: on noida-db, how long a rebalance waits for the dead.
            "KCNGUARD_WORKER_RECORD_MAX_SECONDS": "0.1",
        }
        for name in ("KCNGUARD_TEST_KAFKA", "KCNGUARD_TEST_ELASTICSEARCH"):
            self.env.pop(name, None)
        self.bus = open_bus(bus_url, self.namespace, self.data_dir)
        self.store = open_store(store_url, self.namespace, self.data_dir)

    # -- set-up and the processes

    def setup(self) -> None:
        self.store.setup()
        for brand in seed_brands():
            self.store.put_brand(brand)
        self.bus.ensure_topics(ALL)
        ensure_current(self.data_dir, None)  # built once here, not raced for by the first workers

    def start(self, name: str, *command: str, via: list[str] | None = None, replica: str | None = None) -> None:
        """Run `kcnguard COMMAND` (or `python -m VIA... COMMAND`) as process `name`, logging to logs/NAME.log.

        `replica` (default: the name) is its static Kafka group member id: a restart passes the killed
        process's, as a supervisor restarting the same replica would.
        """
        (self.root / "logs").mkdir(exist_ok=True)
        log = (self.root / "logs" / f"{name}.log").open("ab")
        runner = via or ["launcher.cli"]
        env = {**self.env, "KCNGUARD_KAFKA_INSTANCE_ID": replica or name}
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", *runner, *command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def crashed(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() not in (None, 0)]

    def log_lines(self, name: str, containing: str) -> int:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace").count(containing) if path.exists() else 0

    def close(self) -> None:
        self.stop_all()
        self.bus.close()
        self.store.close()

    # -- outages of the embedded files

    @contextmanager
    def file_locked(self, which: str) -> Iterator[None]:
        """Hold the write lock of the embedded bus or store file, as a stuck process or a backup would."""
        path = self.data_dir / f"{self.namespace}-{which}.sqlite3"
        conn = sqlite3.connect(path, timeout=5, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()

    # -- publishing

    def publish(self, listings: list[Listing], poison: Sequence[bytes] = ()) -> None:
        _retry(lambda: self.bus.publish_records(RAW_LISTINGS, listings, keys=[x.key for x in listings]))
        if poison:
            _retry(lambda: self.bus.publish_many(RAW_LISTINGS, [(b"poison", value) for value in poison]))
        _retry(self.bus.flush)

    # -- counting

    def stored(self, listings: list[Listing]) -> int:
        self.store.refresh()
        return sum(1 for x in listings if _retry(lambda x=x: self.store.get_listing(x.key)) is not None)

    def wait_stored(self, listings: list[Listing], seconds: float, at_least: int | None = None) -> float:
        """Seconds until `at_least` (default all) of the listings are stored; the deadline at most."""
        start, want = time.monotonic(), len(listings) if at_least is None else at_least
        while time.monotonic() - start < seconds and self.stored(listings) < want:
            time.sleep(0.5)
        return time.monotonic() - start

    def count(self, listings: list[Listing], bus: Bus | None = None) -> Counts:
        counts = Counts()
        self.store.refresh()
        for listing in listings:
            versioned = _retry(lambda listing=listing: self.store.get_listing(listing.key))
            if versioned is None:
                counts.lost += 1
                continue
            if len(versioned.record.history) > 1:
                counts.duplicated += 1
                counts.notes.append(f"{listing.key}: stored {len(versioned.record.history)} times")
            for brand in seed_brands():
                scored = self.store.get_scored(listing.key, brand.brand_id)
                if scored is None or not scored.flagged:
                    continue
                case = self.store.get_case(_case_id(listing.key, brand.brand_id))
                if case is None:
                    counts.lost += 1
                    counts.notes.append(f"{listing.key}: flagged for {brand.brand_id} without a case")
                    continue
                opened = sum(1 for t in case.record.history if t.to_state == CaseState.OPEN and t.from_state is None)
                if opened > 1:
                    counts.duplicated += 1
                    counts.notes.append(f"{case.record.case_id}: opened {opened} times")
        counts.dead_lettered = self.dead_letters(bus or self.bus)
        return counts

    def dead_letters(self, bus: Bus) -> int:
        seen, quiet_since = 0, time.monotonic()
        with bus.subscribe(f"count-{uuid.uuid4().hex[:8]}", [DEAD_LETTER]) as consumer:
            while time.monotonic() - quiet_since < 5:
                batch = consumer.poll(500, 0.5)
                if batch:
                    seen += len(batch)
                    quiet_since = time.monotonic()
        return seen


def _case_id(listing_key: str, brand_id: str) -> str:
    from kcnguard.records import Case

    return Case.make_id(listing_key, brand_id)


def _retry(call: Callable[[], T], seconds: float = 60.0) -> T:
    """The harness's own reads and writes wait out the outages it injects, as the services do."""
    end = time.monotonic() + seconds
    while True:
        try:
            return call()
        except TransientError:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)
