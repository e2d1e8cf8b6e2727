"""Committing a change to a case: the one path every case change in the API takes.

Save with the version the change was computed from (a stale one is a ConflictError, never an
overwrite), mirror the review status onto the listing's score for the queue, append to the audit
log, and queue the CaseEvent for the bus. The case is saved first: if a later step fails the
change stands and the error surfaces (the audit append and outbox write retry on their own).
"""

from __future__ import annotations

from typing import Any

from api.audit import service as audit
from api.auth.models import Principal
from api.events import CaseEvents, enqueue, event_for
from kcnguard.records import Case, CaseEvent
from kcnguard.store import Store, Versioned


def summary(case: Case, version: str | None = None) -> dict[str, Any]:
    """What the audit log keeps of a case before and after a change (the case keeps its own full history)."""
    out: dict[str, Any] = {
        "state": str(case.state),
        "review_status": case.review_status,
        "agencies": list(case.agencies),
    }
    if version is not None:
        out["version"] = version
    return out


def emit(store: Store, events: CaseEvents | None, items: list[CaseEvent]) -> None:
    """Queue events: through the app's publisher when there is one, else straight into the outbox it drains."""
    if events is not None:
        events.publish(items)
    else:
        enqueue(store, items)


def commit_change(
    store: Store,
    principal: Principal,
    current: Versioned[Case],
    changed: Case,
    action: str,
    kind: str,
    note: str | None,
    events: CaseEvents | None,
) -> Versioned[Case]:
    saved = store.save_case(changed, current.version)
    store.set_review_status(changed.listing_key, changed.brand_id, changed.review_status)
    audit.append(
        store,
        principal.actor,
        action,
        f"case:{changed.case_id}",
        before=summary(current.record, current.version),
        after=summary(changed, saved.version),
        note=note,
    )
    emit(store, events, [event_for(changed, kind, principal.actor, saved.version)])
    return saved
