"""The one builder of case events, for the classifier's openings and re-scores and the API's changes alike."""

from __future__ import annotations

from datetime import datetime

from kcnguard.records import Case, CaseEvent

MAX_EVENT_ID = 128


def case_event(case: Case, kind: str, actor: str, change: str | None = None, at: datetime | None = None) -> CaseEvent:
    """The event telling that `case` took the change named `change`, as it stands after it.

    The id is `case_id[:change]:kind`, so the same change always has the same id and a retry or a
    re-delivered batch repeats it: consumers (the webhook planner, partners) drop the repeats. A change
    the case can take only once, such as being opened, needs no name.
    """
    event_id = f"{case.case_id}:{change}:{kind}" if change else f"{case.case_id}:{kind}"
    return CaseEvent(
        event_id=event_id[:MAX_EVENT_ID],
        case_id=case.case_id,
        kind=kind,
        state=case.state,
        listing_key=case.listing_key,
        brand_id=case.brand_id,
        score=case.score,
        actor=actor,
        at=at or case.updated_at,
    )
