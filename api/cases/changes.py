"""Committing a change to a case: the one path every case change in the API takes.

Save with the version the change was computed from (a stale one is a ConflictError, never an
overwrite), mirror the review status onto the listing's score for the queue, append to the audit
log, and queue the CaseEvent for the bus. The case is saved first: if a later step fails the
change stands and the error surfaces (the audit append and outbox write retry on their own).

The API's inspectors' and partners' routes answer a missing version with 428 and a stale one
with 409 carrying the current version (require_version, check_version, stale_as_409);
the review service handles a conflict inside a bulk decision its own way, with commit_change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from api.audit import service as audit
from api.auth.models import Principal
from api.events import CaseEvents, enqueue, event_for
from api.problems import Problem
from kcnguard.errors import ConflictError
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


def require_version(version: str | None) -> str:
    """The version a change names; without one it is refused (428) rather than risk an overwrite."""
    if not version:
        raise Problem(
            428,
            "version-required",
            "Cần gửi phiên bản hồ sơ đã đọc (tiêu đề If-Match hoặc trường 'version') để tránh ghi đè.",
            "Send the case version you read (If-Match header or a 'version' field) so no change is overwritten.",
        )
    return version


def stale(current: Versioned[Case]) -> Problem:
    """409: the case moved on since the caller read it; says which version and state it is in now."""
    return Problem(
        409,
        "case-conflict",
        "Hồ sơ đã được người khác thay đổi sau khi bạn mở; hãy tải lại rồi thử lại.",
        "The case was changed by someone else since you read it; reload it and try again.",
        current_version=current.version,
        current_state=str(current.record.state),
    )


def check_version(current: Versioned[Case], expected: str) -> None:
    if current.version != expected:
        raise stale(current)


@contextmanager
def stale_as_409(store: Store, current: Versioned[Case]) -> Iterator[None]:
    """Around commit_change: a save that lost the race (another change landed after the version
    check) becomes a 409 carrying the case as it now stands."""
    try:
        yield
    except ConflictError:
        raise stale(store.get_case(current.record.case_id) or current) from None
