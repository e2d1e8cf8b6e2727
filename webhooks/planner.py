"""Case events into deliveries: one per agency the case is referred to that has an active webhook.

Each is written with CREATE under `agency|event_id`, so a replayed event never makes a second
delivery (the bus is at-least-once).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kcnguard.records import CaseEvent, utcnow
from kcnguard.store import Store
from kcnguard.store.checked import date_value
from kcnguard.webhooks.records import pending_delivery
from kcnguard.webhooks.store import Deliveries, Webhooks

log = logging.getLogger(__name__)


def payload(event: CaseEvent, agency: str) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "kind": event.kind,
        "case_id": event.case_id,
        "state": str(event.state),
        "brand_id": event.brand_id,
        "listing_key": event.listing_key,
        "score": event.score,
        "at": date_value(event.at),
        "agency": agency,
        "case_url": f"/v1/partner/cases/{event.case_id}",
    }


def plan(store: Store, events: Sequence[CaseEvent]) -> int:
    """Write one pending delivery per (event, agency with an active webhook); returns how many were new."""
    cases = store.get_cases(list({e.case_id for e in events}))
    hooks = Webhooks(store)
    now = date_value(utcnow())
    active: dict[str, bool] = {}
    bodies: list[dict[str, Any]] = []
    for event in events:
        case = cases.get(event.case_id)
        if case is None:
            log.warning("case event %s names case %s, which is not in the store", event.event_id, event.case_id)
            continue
        for agency in case.record.agencies:
            if agency not in active:
                active[agency] = hooks.active(agency) is not None
            if active[agency]:
                bodies.append(pending_delivery(agency, event.event_id, event.case_id, payload(event, agency), now))
    return Deliveries(store).create(bodies)
