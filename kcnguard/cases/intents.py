"""A case change made all or nothing: an intent record first, then the steps, each safe to repeat.

A change is four writes (the case, its score's review status, the audit entry, the case event) and no
backend here has a transaction across collections. So the whole change is written first as one intent
document (one write: there or not), then the steps are made, then the intent is deleted. A process that
stops in between leaves the intent behind, and whoever comes next finishes it: the next change of the
same case (`commit_change`), and the API at start-up (`redrive_all`). Each step checks whether it was
already made, so finishing a change twice makes it once:

- the case: saved if the store still holds the version the change was computed from; already saved if it
  holds the changed case; otherwise someone else changed it first and the change is dropped, whole.
- the review status: setting a value twice is setting it once.
- the audit entry: appended unless the log (or its head's pending batch) already has one for the case at
  the version the save gave it.
- the event: its id is fixed by the case's new version, so a repeat is dropped by consumers.
"""

from __future__ import annotations

import logging
from typing import Any

from kcnguard.cases import audit
from kcnguard.cases.collections import CASE_INTENTS
from kcnguard.cases.events import case_event
from kcnguard.errors import ConflictError
from kcnguard.records import Case
from kcnguard.records.base import utcnow
from kcnguard.store import CREATE, Query, Store, Versioned
from kcnguard.store.checked import date_value

log = logging.getLogger(__name__)

INTENT_PAGE = 500


def begin(store: Store, body: dict[str, Any]) -> None:
    """Record the change about to be made; ConflictError while another change of the case is unfinished."""
    store.docs.put(CASE_INTENTS.name, body["case"]["case_id"], {**body, "at": date_value(utcnow())}, CREATE)


def intent_body(
    actor: str, current: Versioned[Case], changed: Case, action: str, kind: str, note: str | None, before: dict
) -> dict[str, Any]:
    return {
        "actor": actor,
        "from_version": current.version,
        "case": changed.to_doc(),
        "action": action,
        "kind": kind,
        "note": note,
        "before": before,
    }


def finish(store: Store, body: dict[str, Any], publisher: Any) -> Versioned[Case] | None:
    """Make every step of the change not made yet, then drop the intent; None when the change was overtaken."""
    from kcnguard.cases.flow import publish, summary  # flow builds on this module

    changed = Case.model_validate(body["case"])
    stored = store.get_case(changed.case_id)
    if stored is not None and stored.record.to_doc() == changed.to_doc():
        saved = stored
    elif stored is not None and stored.version == body["from_version"]:
        try:
            saved = store.save_case(changed, body["from_version"])
        except ConflictError:
            saved = None
    else:
        saved = None
    if saved is None:  # another change came first: this one never happened, in any of its parts
        log.info("case %s changed before this change of it was made; the change is dropped", changed.case_id)
        _drop(store, changed.case_id)
        return None
    store.set_review_status(changed.listing_key, changed.brand_id, changed.review_status)
    obj = f"case:{changed.case_id}"
    if not audit.has_entry(store, obj, saved.version):
        after = summary(changed, saved.version)
        audit.append(store, body["actor"], body["action"], obj, body["before"], after, body["note"])
    # The case's new version names the change, so a retry of the same change repeats the event id.
    publish(store, publisher, [case_event(changed, body["kind"], body["actor"], saved.version)])
    _drop(store, changed.case_id)
    return saved


def finish_case(store: Store, case_id: str, publisher: Any) -> None:
    """Finish a change of this case that a stopped process left half-made."""
    left = store.docs.get(CASE_INTENTS.name, case_id)
    if left is not None:
        log.warning("finishing an unfinished change of case %s (%s)", case_id, left.body.get("action"))
        finish(store, left.body, publisher)


def redrive_all(store: Store, publisher: Any = None) -> int:
    """Finish every change a stopped process left half-made (at start-up); returns how many."""
    store.docs.refresh(CASE_INTENTS.name)
    done = 0
    while docs := store.docs.search(CASE_INTENTS.name, Query(size=INTENT_PAGE)).docs:
        for doc in docs:
            finish_case(store, doc.id, publisher)
            done += 1
        store.docs.refresh(CASE_INTENTS.name)
    if done:
        log.warning("finished %d case changes left half-made", done)
    return done


def _drop(store: Store, case_id: str) -> None:
    store.docs.delete(CASE_INTENTS.name, case_id)
