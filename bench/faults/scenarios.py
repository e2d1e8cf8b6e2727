"""The faults, one function each: start the classifier, inject, wait for the pipeline to settle, count.

Each returns the Counts of its stack plus how many dead letters it expected (its poison records);
the listings are the project's synthetic ones (bench.pipeline), a new set per scenario.
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from bench.faults.stack import Counts, Stack
from bench.pipeline import synthetic_listings
from classifier.seed_data import seed_brands
from kcnguard.records import Listing

# How long a scenario waits for every listing once its fault is over; a slower run counts as lost.
SETTLE_SECONDS = 120.0


@dataclass
class Outcome:
    scenario: str
    backend: str
    published: int
    poison: int
    counts: Counts
    seconds: float

    @property
    def ok(self) -> bool:
        return self.counts.lost == 0 and self.counts.duplicated == 0 and self.counts.dead_lettered == self.poison


def listings(n: int, name: str) -> list[Listing]:
    tag = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return [
        x.model_copy(update={"listing_id": f"{tag}-{x.listing_id}", "url": f"{x.url}-{tag}"})
        for x in synthetic_listings(n, seed_brands(), seed=zlib.crc32(tag.encode()))
    ]


def poison_records() -> list[bytes]:
    """Malformed JSON, wrong types, a huge payload: each must land in the dead-letter topic, the rest go on."""
    good = json.loads(listings(1, "poison")[0].to_json())
    return [
        b"{not json",
        b"\xff\xfe binary \x00",
        json.dumps({**good, "price": "rẻ lắm", "listing_id": "wrong-types"}).encode(),
        json.dumps({**good, "seller": [1, 2, 3], "listing_id": "wrong-shape"}).encode(),
        # 300 kB: far past any field's limit, yet under the broker's message limit once dead-lettered.
        json.dumps({**good, "title": "Ă" * 150_000, "listing_id": "huge"}, ensure_ascii=False).encode(),
    ]


def _run(stack: Stack, name: str, n: int, body: Callable[[list[Listing]], None], poison: int = 0) -> Outcome:
    batch = listings(n, name)
    start = time.monotonic()
    body(batch)
    stack.wait_stored(batch, SETTLE_SECONDS)
    time.sleep(3)  # re-deliveries still in flight land before the count
    stack.stop_all()
    return Outcome(name, stack.backend, n, poison, stack.count(batch), time.monotonic() - start)


def kill_classifier(stack: Stack, n: int) -> Outcome:
    """Two classifiers share the work; one is killed -9 mid-batch and restarted, as a supervisor would."""

    def body(batch: list[Listing]) -> None:
        stack.start("classifier-1", "classifier")
        stack.start("classifier-2", "classifier")
        stack.publish(batch)
        stack.wait_stored(batch, 60, at_least=n // 4)
        stack.kill("classifier-1")
        stack.start("classifier-1-restarted", "classifier", replica="classifier-1")

    return _run(stack, "kill-9 classifier", n, body)


def poison(stack: Stack, n: int) -> Outcome:
    records = poison_records()

    def body(batch: list[Listing]) -> None:
        stack.start("classifier", "classifier")
        half = len(batch) // 2
        stack.publish(batch[:half], records)
        stack.publish(batch[half:])

    return _run(stack, "poison records", n, body, poison=len(records))


def _outage(stack: Stack, which: str, seconds: float) -> None:
    """The bus or the store goes away for `seconds`: the noida-db service stopped, or the embedded file locked."""
    if stack.noida is not None:
        service = "kafka" if which == "bus" else "elasticsearch"
        stack.noida.stop(service)
        time.sleep(seconds)
        stack.noida.start(service)
        return
    with stack.file_locked(which):
        time.sleep(seconds)


def outage(which: str) -> Callable[[Stack, int], Outcome]:
    def scenario(stack: Stack, n: int) -> Outcome:
        def body(batch: list[Listing]) -> None:
            stack.start("classifier", "classifier")
            half = len(batch) // 2
            stack.publish(batch[:half])
            stack.wait_stored(batch, 60, at_least=half // 3)
            _outage(stack, which, 8.0)
            stack.publish(batch[half:])

        return _run(stack, f"{which} outage 8 s", n, body)

    return scenario


def restart_classifier_during_outage(stack: Stack, n: int) -> Outcome:
    """The classifier is killed while the store is away, and starts again before it is back."""

    def body(batch: list[Listing]) -> None:
        stack.start("classifier", "classifier")
        stack.publish(batch)
        stack.wait_stored(batch, 60, at_least=n // 4)
        away = threading.Thread(target=_outage, args=(stack, "store", 10.0))
        away.start()
        time.sleep(1)
        stack.kill("classifier")
        stack.start("classifier-restarted", "classifier", replica="classifier")
        away.join()

    return _run(stack, "kill-9 during store outage", n, body)


def disk_full(stack: Stack, n: int) -> Outcome:
    """The disk is full when the classifier starts, and again for a while once it runs (simulated)."""
    marker = stack.root / "disk-is-full"

    def body(batch: list[Listing]) -> None:
        half = len(batch) // 2
        stack.publish(batch[:half])
        marker.touch()
        stack.start("classifier", str(marker), "classifier", via=["bench.faults.full_disk"])
        time.sleep(6)
        if stack.crashed():
            raise RuntimeError(f"the classifier ended on a full disk at start-up: see {stack.root / 'logs'}")
        marker.unlink()
        stack.wait_stored(batch[:half], 60)
        # Mid-run: the classifier's writes to the embedded files fail (the harness, another process, still
        # publishes). On Kafka + Elasticsearch its only local writes are the model's, made at start-up.
        marker.touch()
        stack.publish(batch[half:])
        time.sleep(5)
        marker.unlink()

    return _run(stack, "disk full (start-up, mid-run)", n, body)


ALL: dict[str, Callable[[Stack, int], Outcome]] = {
    "kill-classifier": kill_classifier,
    "poison": poison,
    "bus-outage": outage("bus"),
    "store-outage": outage("store"),
    "kill-during-outage": restart_classifier_during_outage,
    "disk-full": disk_full,
}
