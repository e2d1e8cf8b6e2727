"""Case events leave through the store's outbox (kcnguard.cases.outbox): kept while the bus is down, sent after."""

from __future__ import annotations

import time
from pathlib import Path

from kcnguard.bus import Bus, open_bus
from kcnguard.cases.events import case_event
from kcnguard.cases.outbox import CaseEvents, Outbox
from kcnguard.errors import BusUnavailable
from kcnguard.records import Case, CaseEvent
from kcnguard.store import Store
from kcnguard.topics import CASE_EVENTS

pytest_plugins = ["tests.unit.test_api_support"]


def _events(n: int) -> list[CaseEvent]:
    return [
        case_event(Case.open_for(f"demo:{i}", "sua-acme", 0.9, "classifier"), "opened", "classifier") for i in range(n)
    ]


def _outbox(store: Store) -> int:
    return Outbox(store).count()


def test_events_wait_in_the_outbox_while_the_bus_is_down_then_go_out(
    store: Store, tmp_path: Path, namespace: str
) -> None:
    bus_url = f"embedded://{tmp_path / 'bus.db'}"
    bus_up = False

    def opener() -> Bus:
        if not bus_up:
            raise BusUnavailable("bus down for the test")
        bus = open_bus(bus_url, namespace=namespace)
        bus.ensure_topics([CASE_EVENTS])
        return bus

    publisher = CaseEvents(store, opener, retry_max_seconds=0.2)
    publisher.start()
    try:
        publisher.publish(_events(3))
        time.sleep(0.5)
        assert _outbox(store) == 3  # nothing lost, nothing sent
        bus_up = True
        deadline = time.monotonic() + 10
        while _outbox(store) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _outbox(store) == 0
    finally:
        publisher.close()
    with open_bus(bus_url, namespace=namespace) as bus, bus.subscribe("t", [CASE_EVENTS]) as consumer:
        got = [CaseEvent.model_validate_json(m.value) for m in consumer.poll(10, timeout=2)]
    assert sorted(e.listing_key for e in got) == ["demo:0", "demo:1", "demo:2"]


def test_events_queued_without_a_publisher_are_sent_by_the_next_drain(
    store: Store, tmp_path: Path, namespace: str
) -> None:
    Outbox(store).put(_events(2))  # as a service called outside a request (the portal, a script) does
    bus_url = f"embedded://{tmp_path / 'bus.db'}"
    publisher = CaseEvents(store, lambda: open_bus(bus_url, namespace=namespace))
    assert publisher.drain() is True
    assert _outbox(store) == 0
    publisher.close()


def test_one_change_has_one_event_id(store: Store) -> None:
    case = Case.open_for("demo:1", "sua-acme", 0.9, "classifier")
    assert case_event(case, "transitioned", "x", "7").event_id == case_event(case, "transitioned", "y", "7").event_id
    assert case_event(case, "transitioned", "x", "7").event_id != case_event(case, "transitioned", "x", "8").event_id
    # Opening happens once per case: its event needs no change name, and its id is fixed per case.
    assert case_event(case, "opened", "classifier").event_id == f"{case.case_id}:opened"
