"""Case events to the bus through an outbox in the store, so none is lost while the bus is down.

Every case change the API saves is followed by its CaseEvent written to the store's `outbox`
collection (the store just took the case, so it is up); a background thread publishes and flushes
it to the bus and then removes it from the outbox. When the bus is down or slow, the event simply
stays in the outbox and the thread retries with backoff until the bus takes it. Why not publish
first and fall back to memory: a restart would lose what memory held; the outbox survives restarts
and any number of processes drain it (an event sent twice is harmless: consumers key on event_id).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from kcnguard.backoff import Backoff
from kcnguard.bus import Bus
from kcnguard.cases.collections import OUTBOX
from kcnguard.records import CaseEvent, utcnow
from kcnguard.store import Query, Store, Write
from kcnguard.store.checked import date_value
from kcnguard.topics import CASE_EVENTS

log = logging.getLogger(__name__)

DRAIN_BATCH = 200
IDLE_LOOK_SECONDS = 5.0


class Outbox:
    """The outbox collection: events in, oldest first out, removed once the bus has them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def put(self, events: Sequence[CaseEvent]) -> None:
        writes = [Write(e.event_id, {"queued_at": date_value(utcnow()), "event": e.to_doc()}) for e in events]
        if not writes:
            return
        failed = [r for r in self.store.docs.bulk_write(OUTBOX.name, writes) if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} case events not queued, first {failed[0].id}: {failed[0].error}")

    def oldest(self, size: int = DRAIN_BATCH) -> list[CaseEvent]:
        self.store.docs.refresh(OUTBOX.name)
        page = self.store.docs.search(OUTBOX.name, Query(sort=[("queued_at", "asc")], size=size))
        return [CaseEvent.model_validate(d.body["event"]) for d in page.docs]

    def remove(self, events: Sequence[CaseEvent]) -> None:
        for event in events:
            self.store.docs.delete(OUTBOX.name, event.event_id)

    def count(self) -> int:
        self.store.docs.refresh(OUTBOX.name)
        return self.store.docs.count(OUTBOX.name)


class CaseEvents:
    """The publisher: `publish` queues and wakes the sender; a thread sends and retries what is left."""

    def __init__(self, store: Store, open_bus: Callable[[], Bus], retry_max_seconds: float = 30.0) -> None:
        self.outbox = Outbox(store)
        self._open_bus = open_bus
        self._bus: Bus | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.retry_max_seconds = retry_max_seconds

    def publish(self, events: Sequence[CaseEvent]) -> None:
        """Queue durably and wake the sender; a request never waits on the bus (Kafka down can take 30 s)."""
        if not events:
            return
        self.outbox.put(events)
        self._wake.set()

    def drain(self) -> bool:
        """Send what the outbox holds; True when it is empty afterwards."""
        with self._lock:
            try:
                while True:
                    events = self.outbox.oldest()
                    if not events:
                        return True
                    bus = self._bus or self._open_bus()
                    self._bus = bus
                    bus.publish_records(CASE_EVENTS, events, keys=[e.case_id for e in events])
                    bus.flush()
                    self.outbox.remove(events)
                    log.info("published %d case events", len(events))
            except Exception as exc:  # the bus (or store) is down: the outbox keeps the events
                log.warning("case events kept in the outbox, bus unavailable: %s: %s", type(exc).__name__, exc)
                self._drop_bus()
                return False

    def _drop_bus(self) -> None:
        if self._bus is not None:
            try:
                self._bus.close()
            except Exception:  # closing a broken bus may fail too; it is being replaced anyway
                log.debug("closing the broken bus failed", exc_info=True)
            self._bus = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="case-events-outbox", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        backoff = Backoff(first=0.5, longest=self.retry_max_seconds)
        self._wake.set()  # events left by an earlier run go out at start
        while not self._stop.is_set():
            # Woken by publish(); else a look every few seconds for events other writers queued
            # (a change committed without this publisher, another process that stopped).
            self._wake.wait(timeout=IDLE_LOOK_SECONDS)
            if self._stop.is_set():
                break
            self._wake.clear()  # before draining: a publish during the drain wakes the next round
            if self.drain():
                backoff = Backoff(first=0.5, longest=self.retry_max_seconds)
                continue
            if not backoff.wait(self._stop):
                break
            self._wake.set()  # the pause is over: try again at once

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            self._drop_bus()
