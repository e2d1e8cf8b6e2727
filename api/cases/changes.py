"""The API's side of committing a change to a case: versions asked for and conflicts answered.

Every case change in the API is committed by kcnguard.cases.flow.commit_change (saved with the
version the change was computed from, its review status mirrored onto the score, audited, and its
CaseEvent queued for the bus), in the name of the principal who made it.

The API's inspectors' and partners' routes answer a missing version with 428 and a stale one
with 409 carrying the current version (require_version, check_version, stale_as_409);
the review service handles a conflict inside a bulk decision its own way, with commit_change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from api.auth.models import Principal
from api.problems import Problem
from kcnguard.cases import flow
from kcnguard.cases.outbox import CaseEvents
from kcnguard.errors import ConflictError
from kcnguard.records import Case
from kcnguard.store import Store, Versioned


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
    return flow.commit_change(store, principal.actor, current, changed, action, kind, note, events)


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
