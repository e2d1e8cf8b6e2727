"""Opening, re-scoring and moving cases: each change saved, audited and announced the same way wherever it is made.

The classifier opens cases in bulk and re-scores open ones (`open_cases`); the API moves them
(`commit_change`). Either way the case is saved first (a stale version is a ConflictError, never an
overwrite), then its audit entries are appended (a batch in one step), then its case events are
built by kcnguard.cases.events. If a later step fails the change stands and the error surfaces.

The classifier publishes the events it gets back on its own bus, in the batch that made them: a
re-delivered batch announces them again under the same ids. The API queues its events in the
outbox (kcnguard.cases.outbox), since a request must not wait on the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from kcnguard.cases import audit
from kcnguard.cases.events import case_event
from kcnguard.cases.outbox import Outbox
from kcnguard.errors import ConflictError
from kcnguard.records import Case, CaseEvent, CaseState, ScoredListing
from kcnguard.store import Store, Versioned

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, events: Sequence[CaseEvent]) -> None: ...


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


def _object(case: Case) -> str:
    return f"case:{case.case_id}"


def publish(store: Store, publisher: Publisher | None, events: Sequence[CaseEvent]) -> None:
    """Queue events: through the process's publisher when there is one, else straight into the outbox it drains."""
    if publisher is not None:
        publisher.publish(events)
    else:
        Outbox(store).put(events)


def commit_change(
    store: Store,
    actor: str,
    current: Versioned[Case],
    changed: Case,
    action: str,
    kind: str,
    note: str | None,
    publisher: Publisher | None,
) -> Versioned[Case]:
    """Save a change computed from `current`, mirror its review status onto the score, audit it, announce it."""
    saved = store.save_case(changed, current.version)
    store.set_review_status(changed.listing_key, changed.brand_id, changed.review_status)
    audit.append(
        store,
        actor,
        action,
        _object(changed),
        before=summary(current.record, current.version),
        after=summary(changed, saved.version),
        note=note,
    )
    # The case's new version names the change, so a retry of the same change repeats the event id.
    publish(store, publisher, [case_event(changed, kind, actor, saved.version)])
    return saved


def open_cases(store: Store, flagged: Sequence[ScoredListing], actor: str, rescore_delta: float) -> list[CaseEvent]:
    """Open a case per flagged score in one bulk write; return the events to announce.

    New cases are announced as "opened". A case already there is announced as "opened" again while it
    is untouched (a crash between creating it and flushing the event would otherwise lose the event for
    good; its id is fixed per case, so consumers drop the repeats), and a still-open one whose score moved
    by at least `rescore_delta` is re-scored and announced as "rescored".
    """
    candidates = [
        Case.open_for(s.listing.key, s.brand_id, s.score, actor=actor, note=s.reasons[0].vi if s.reasons else None)
        for s in flagged
    ]
    events: list[CaseEvent] = []
    entries: list[audit.Draft] = []
    for scored, (stored, created) in zip(flagged, store.open_cases(candidates), strict=True):
        case = stored.record
        if created:
            log.info("case %s opened for %s (%s, %.2f)", case.case_id, case.listing_key, case.brand_id, case.score)
            note = case.history[0].note if case.history else None
            entries.append(audit.Draft(actor, "case.open", _object(case), None, _scored(case, stored.version), note))
        elif case.state is CaseState.OPEN and abs(case.score - scored.score) >= rescore_delta:
            if _unannounced(case, actor):  # its "opened" may have been lost; repeating it costs a dropped duplicate
                events.append(case_event(case, "opened", actor, at=case.created_at))
            rescored = _rescore(store, stored, scored, actor)
            if rescored is not None:
                saved, entry = rescored
                entries.append(entry)
                # One event per score the case takes: a redelivered batch repeats the id, and consumers drop it.
                events.append(case_event(saved.record, "rescored", actor, f"{scored.model_version}:{scored.score:.4f}"))
            continue
        elif not _unannounced(case, actor):
            continue
        events.append(case_event(case, "opened", actor, at=case.created_at))
    audit.append_many(store, entries)
    return events


def _rescore(
    store: Store, current: Versioned[Case], scored: ScoredListing, actor: str
) -> tuple[Versioned[Case], audit.Draft] | None:
    """Update a still-open case's score; an inspector acting on it at that moment wins."""
    case = current.record
    updated = case.model_copy(update={"score": scored.score, "updated_at": scored.scored_at})
    try:
        saved = store.save_case(updated, current.version)
    except ConflictError:
        log.info("case %s changed while re-scoring; left to the inspector", case.case_id)
        return None
    log.info("case %s re-scored %.2f -> %.2f", case.case_id, case.score, scored.score)
    note = f"model {scored.model_version}"
    entry = audit.Draft(
        actor, "case.rescore", _object(case), _scored(case, current.version), _scored(updated, saved.version), note
    )
    return saved, entry


def _scored(case: Case, version: str) -> dict[str, Any]:
    return {**summary(case, version), "score": case.score}


def _unannounced(case: Case, actor: str) -> bool:
    """Still as `actor` opened it: nobody has acted on it, so its event may be missing."""
    return case.state is CaseState.OPEN and len(case.history) == 1 and case.history[0].actor == actor
