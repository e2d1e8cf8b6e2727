"""The webhook delivery service's process, both halves restartable at any point:
a RecordWorker on CASE_EVENTS plans deliveries (webhooks/planner.py), and a sender thread
posts the due ones (webhooks/sender.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import TypeVar

from kcnguard.bus import Bus, open_bus
from kcnguard.bus.worker import Handler, RecordWorker
from kcnguard.process import StoppedBeforeReady, until_ready
from kcnguard.records import CaseEvent, Record
from kcnguard.settings import Settings
from kcnguard.store import Store, open_store
from kcnguard.topics import CASE_EVENTS, DEAD_LETTER
from webhooks.planner import plan
from webhooks.sender import GROUP, Sender

log = logging.getLogger(__name__)
T = TypeVar("T")


def handler(store: Store) -> Handler:
    def handle(records: list[Record]) -> None:
        events = [r for r in records if isinstance(r, CaseEvent)]
        made = plan(store, events)
        if made:
            log.info("planned %d webhook deliveries from %d case events", made, len(events))

    return handle


def run(settings: Settings, stop: threading.Event) -> None:
    """Consume case events and deliver webhooks until `stop` is set; waits out a store, bus or disk not ready."""

    def ready(step: Callable[[], T], what: str) -> T:
        return until_ready(step, what, stop, service="webhooks", longest=settings.retry_max_seconds)

    with ExitStack() as resources:
        try:
            store = ready(lambda: open_store(settings.store_url, settings.namespace, settings.data_dir), "store")
            resources.callback(store.close)
            bus = ready(lambda: open_bus(settings.bus_url, settings.namespace, settings.data_dir), "bus")
            resources.callback(bus.close)
            ready(store.setup, "store setup")
            ready(lambda: bus.ensure_topics([CASE_EVENTS, DEAD_LETTER]), "bus topics")
        except StoppedBeforeReady as exc:
            log.info("%s", exc)
            return
        sender = Sender(store, settings, bus)
        resources.callback(sender.close)
        _serve(settings, stop, store, bus, sender)


def _serve(settings: Settings, stop: threading.Event, store: Store, bus: Bus, sender: Sender) -> None:
    def send_loop() -> None:
        while not stop.is_set():
            try:
                made = sender.send_due()
            except Exception:  # the store may be down for a while; the loop outlives it
                log.exception("webhook sender failed; retrying shortly")
                made = 0
            stop.wait(0.2 if made else 1.0)

    thread = threading.Thread(target=send_loop, name="webhook-sender", daemon=True)
    thread.start()
    worker = RecordWorker(
        bus,
        GROUP,
        CASE_EVENTS,
        handler(store),
        name="webhooks",
        batch_size=settings.worker_batch_size,
        poll_seconds=settings.worker_poll_seconds,
        retry_max_seconds=settings.retry_max_seconds,
        stop=stop,
    )
    try:
        worker.run()
    finally:
        stop.set()
        thread.join(10)
