"""A full disk at start-up is waited out like any outage: a clear line, a retry with backoff, then work.

The disk is simulated: the failing call raises what a full disk raises (OSError ENOSPC, SQLite's
"database or disk is full") a few times, then succeeds, as it would once space is freed.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from classifier.model import TrainedModel
from classifier.training.fit import train_seed
from kcnguard.bus.embedded import EmbeddedBus
from kcnguard.errors import StoreUnavailable
from kcnguard.process import StoppedBeforeReady, is_disk_full, until_ready
from kcnguard.records import Listing
from kcnguard.settings import Settings
from kcnguard.store import Store
from kcnguard.topics import RAW_LISTINGS

DISK_FULL_ERRORS: list[Callable[[], BaseException]] = [
    lambda: OSError(errno.ENOSPC, "No space left on device"),
    lambda: sqlite3.OperationalError("database or disk is full"),
]


class FailsFirst:
    """Wraps `call` to raise the given errors on its first calls, then pass through."""

    def __init__(self, call: Callable[..., Any], errors: list[Callable[[], BaseException]]) -> None:
        self.call, self.errors, self.calls = call, list(errors), 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)()
        return self.call(*args, **kwargs)

    def as_method(self) -> Callable[..., Any]:
        """The same, as a plain function, so that set on a class it binds `self` like the method it replaces."""

        def method(*args: Any, **kwargs: Any) -> Any:
            return self(*args, **kwargs)

        return method


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_seed()


def _settings(tmp_path: Path, namespace: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", namespace=namespace, worker_poll_seconds=0.1, retry_max_seconds=0.5)


def _wait_for(condition: Callable[[], object], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "the service never got going"
        time.sleep(0.05)


def _stored(store: Store, key: str) -> bool:
    try:
        return store.get_listing(key) is not None
    except StoreUnavailable:  # not set up yet: the service is still waiting out the disk
        return False


def _disk_full_lines(caplog: pytest.LogCaptureFixture, service: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{service}:") and "disk full" in r.getMessage()]


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        sqlite3.OperationalError("database or disk is full"),
        StoreUnavailable("sqlite store x.db: writing failed: database or disk is full"),
    ],
)
def test_disk_full_is_recognised_in_every_form(exc: BaseException) -> None:
    assert is_disk_full(exc)
    wrapped = RuntimeError("model not written")
    wrapped.__cause__ = exc
    assert is_disk_full(wrapped)


@pytest.mark.parametrize(
    "exc", [OSError(errno.EACCES, "Permission denied"), sqlite3.OperationalError("no such table: x"), ValueError("x")]
)
def test_other_errors_are_not_disk_full(exc: BaseException) -> None:
    assert not is_disk_full(exc)


def test_until_ready_retries_a_full_disk_and_lets_real_faults_through(caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    step = FailsFirst(lambda: "ready", DISK_FULL_ERRORS)
    with caplog.at_level(logging.WARNING):
        assert until_ready(step, "model", stop, service="svc", longest=0.05) == "ready"
    assert step.calls == 3
    assert len(_disk_full_lines(caplog, "svc")) == 2
    with pytest.raises(OSError, match="Permission"):
        until_ready(
            FailsFirst(lambda: None, [lambda: OSError(errno.EACCES, "Permission denied")]), "x", stop, service="s"
        )
    stop.set()
    with pytest.raises(StoppedBeforeReady):
        until_ready(FailsFirst(lambda: None, DISK_FULL_ERRORS), "model", stop, service="svc")


def test_the_classifier_waits_out_a_full_disk_at_start_then_scores(
    tmp_path: Path,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
    trained: TrainedModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from classifier import service

    settings = _settings(tmp_path, namespace)
    listing = Listing(
        marketplace="shopee",
        listing_id="1",
        url="https://shopee.vn/i/1",
        title="Áo thun nam",
        price=100_000,
        evidence_digest=hashlib.sha256(b"1").hexdigest(),
    )
    with EmbeddedBus(settings.data_dir / f"{namespace}-bus.sqlite3", namespace) as bus:
        bus.ensure_topics([RAW_LISTINGS])
        bus.publish_records(RAW_LISTINGS, [listing], keys=[listing.key])
        bus.flush()
    # Setting up the store, creating the topics and writing the model each meet a full disk first.
    monkeypatch.setattr(Store, "setup", FailsFirst(Store.setup, DISK_FULL_ERRORS).as_method())
    monkeypatch.setattr(
        EmbeddedBus, "ensure_topics", FailsFirst(EmbeddedBus.ensure_topics, DISK_FULL_ERRORS[:1]).as_method()
    )
    monkeypatch.setattr(service, "load_model", FailsFirst(lambda *_a, **_k: trained, DISK_FULL_ERRORS))
    stop = threading.Event()
    with caplog.at_level(logging.WARNING):
        thread = threading.Thread(target=service.run, args=(settings, stop))
        thread.start()
        try:
            store = service.open_store(settings.store_url, namespace, settings.data_dir)
            try:
                _wait_for(lambda: _stored(store, listing.key))
            finally:
                store.close()
        finally:
            stop.set()
            thread.join(30)
    assert not thread.is_alive()
    assert len(_disk_full_lines(caplog, "classifier")) == 5  # two for the store, one for the topics, two for the model


def test_webhooks_wait_out_a_full_disk_at_start_then_serve(
    tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from webhooks import service

    served = threading.Event()
    monkeypatch.setattr(Store, "setup", FailsFirst(Store.setup, DISK_FULL_ERRORS).as_method())
    monkeypatch.setattr(service, "_serve", lambda *_a: served.set())
    with caplog.at_level(logging.WARNING):
        service.run(_settings(tmp_path, namespace), threading.Event())
    assert served.is_set()
    assert len(_disk_full_lines(caplog, "webhooks")) == 2


def test_the_crawler_waits_out_a_full_disk_at_start_then_polls(
    tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from crawler import service

    settings = _settings(tmp_path, namespace)
    stop = threading.Event()
    monkeypatch.setattr(service, "open_store", FailsFirst(service.open_store, DISK_FULL_ERRORS))
    crawler = service.CrawlerService(settings, stop)
    polled = FailsFirst(lambda: None, [])

    async def serve_until_polled() -> None:
        async def watch() -> None:
            while crawler.consumer is None:
                await asyncio.sleep(0.05)
            polled()
            stop.set()

        await asyncio.gather(crawler.serve(), watch())

    with caplog.at_level(logging.WARNING):
        asyncio.run(asyncio.wait_for(serve_until_polled(), 30))
    assert polled.calls == 1
    assert len(_disk_full_lines(caplog, "crawler")) == 2
    assert not [r for r in caplog.records if r.exc_info], "a full disk is a line, not a traceback"
