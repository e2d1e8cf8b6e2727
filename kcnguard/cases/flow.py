"""Opening, re-scoring and moving cases: each change saved, audited and announced the same way wherever it is made.

The classifier opens cases in bulk and re-scores open ones (`open_cases`), and dismisses or reopens a
case nobody else has touched when its score crosses the threshold (`follow_scores`); the API moves them
(`commit_change`). Either way the case is saved first (a stale version is a ConflictError, never an
overwrite), then its audit entries are appended (a batch in one step), then its case events are
built by kcnguard.cases.events. A move (`commit_change`) is all or nothing: recorded first as an intent
and finished by whoever comes next if its process stops half-way (kcnguard.cases.intents). Openings and
re-scores are made again by the re-delivered batch, whose steps are idempotent.

The classifier publishes the events it gets back on its own bus, in the batch that made them: a
re-delivered batch announces them again under the same ids. The API queues its events in the
outbox (kcnguard.cases.outbox), since a request must not wait on the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from kcnguard.cases import audit, intents
from kcnguard.cases.events import case_event
from kcnguard.cases.outbox import Outbox
from kcnguard.errors import ConflictError
from kcnguard.records import Case, CaseEvent, CaseState, ScoredListing
from kcnguard.store import Store, Versioned

log = logging.getLogger(__name__)

# Why the classifier moves a case on its own; kept in the case's history and the audit entry.
SCORE_DROPPED = "score dropped below threshold"
SCORE_ROSE = "score rose above threshold again"
KEPT_OPEN = "score dropped below threshold; kept open: an inspector has acted on the case"


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
    """Save a change computed from `current`, mirror its review status onto the score, audit it, announce it:
    all or nothing, through an intent record (kcnguard.cases.intents)."""
    intents.finish_case(store, changed.case_id, publisher)  # a change a stopped process left half-made
    before = summary(current.record, current.version)
    body = intents.intent_body(actor, current, changed, action, kind, note, before)
    intents.begin(store, body)
    saved = intents.finish(store, body, publisher)
    if saved is None:
        raise ConflictError(f"case {changed.case_id} was changed by someone else first")
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
        elif case.state is CaseState.DISMISSED and _dismissed_by(case, actor):
            events += _move(store, stored, CaseState.OPEN, actor, SCORE_ROSE, scored)
            continue
        elif not _unannounced(case, actor):
            continue
        events.append(case_event(case, "opened", actor, at=case.created_at))
    audit.append_many(store, entries)
    return events


def follow_scores(store: Store, unflagged: Sequence[ScoredListing], actor: str) -> list[CaseEvent]:
    """Cases whose listing's score fell below the threshold follow it; return the events to announce.

    An open case nobody has acted on is dismissed ("score dropped below threshold"), audited and announced;
    it opens again if the score rises back (`open_cases`). A case an inspector has acted on stays open: its
    score is updated once, with that reason in the audit entry, and the decision stays the inspector's.
    """
    ids = {Case.make_id(s.listing.key, s.brand_id): s for s in unflagged}
    cases = store.get_cases(list(ids)) if ids else {}
    events: list[CaseEvent] = []
    entries: list[audit.Draft] = []
    for case_id, stored in cases.items():
        case, scored = stored.record, ids[case_id]
        if case.state is not CaseState.OPEN:
            continue
        if all(step.actor == actor for step in case.history):  # nobody but the classifier has moved it
            events += _move(store, stored, CaseState.DISMISSED, actor, SCORE_DROPPED, scored)
        elif case.score >= scored.threshold:  # the first time it falls: said once, not on every re-score
            rescored = _rescore(store, stored, scored, actor, KEPT_OPEN)
            if rescored is not None:
                entries.append(rescored[1])
                events.append(
                    case_event(rescored[0].record, "rescored", actor, f"{scored.model_version}:{scored.score:.4f}")
                )
    audit.append_many(store, entries)
    return events


class _Collected:
    """A publisher that keeps the events for the classifier to publish with its batch."""

    def __init__(self) -> None:
        self.events: list[CaseEvent] = []

    def publish(self, events: Sequence[CaseEvent]) -> None:
        self.events.extend(events)


def _move(
    store: Store, current: Versioned[Case], to: CaseState, actor: str, reason: str, scored: ScoredListing
) -> list[CaseEvent]:
    """The classifier moves a case its score decides, all or nothing (an inspector acting at that moment wins)."""
    case = current.record
    moved = case.transition(to, actor, reason).model_copy(update={"score": scored.score})
    action = "case.auto_dismiss" if to is CaseState.DISMISSED else "case.auto_reopen"
    collected = _Collected()
    try:
        commit_change(store, actor, current, moved, action, "transitioned", f"{reason} ({scored.score:.4f})", collected)
    except ConflictError:
        log.info("case %s changed while following its score; left to the inspector", case.case_id)
    else:
        log.info("case %s %s: %s (%.2f)", case.case_id, to, reason, scored.score)
    return collected.events


def _rescore(
    store: Store, current: Versioned[Case], scored: ScoredListing, actor: str, reason: str | None = None
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
    note = f"model {scored.model_version}" + (f"; {reason}" if reason else "")
    entry = audit.Draft(
        actor, "case.rescore", _object(case), _scored(case, current.version), _scored(updated, saved.version), note
    )
    return saved, entry


def _scored(case: Case, version: str) -> dict[str, Any]:
    return {**summary(case, version), "score": case.score}


def _dismissed_by(case: Case, actor: str) -> bool:
    """Dismissed by `actor` because its score fell, not by an inspector's decision."""
    last = case.history[-1] if case.history else None
    return last is not None and last.actor == actor and last.note == SCORE_DROPPED


def _unannounced(case: Case, actor: str) -> bool:
    """Still as `actor` opened it: nobody has acted on it, so its event may be missing."""
    return case.state is CaseState.OPEN and len(case.history) == 1 and case.history[0].actor == actor
