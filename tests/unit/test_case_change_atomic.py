"""A case change is all or nothing: stopped between any two of its writes, it is finished on restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kcnguard.cases import audit, flow, intents
from kcnguard.cases.collections import CASE_INTENTS
from kcnguard.cases.events import case_event
from kcnguard.cases.outbox import Outbox
from kcnguard.errors import ConflictError
from kcnguard.records import Case, CaseState
from kcnguard.store import Store, Versioned
from kcnguard.store.sqlite import SqliteDocumentStore
from tests.unit.test_api_support import open_case, scored, seed_scored


class Stopped(Exception):
    """The process died here."""


@pytest.fixture
def store(tmp_path: Path, namespace: str) -> Iterator[Store]:
    made = Store(SqliteDocumentStore(tmp_path / "store.sqlite3", namespace=namespace))
    made.setup()
    yield made
    made.close()


# Each step of a change, in order; the change is stopped just before the named one.
STEPS = ["save_case", "set_review_status", "append", "publish", "drop"]


def _stop_at(monkeypatch: pytest.MonkeyPatch, store: Store, step: str) -> None:
    def stop(*_: object, **__: object) -> None:
        raise Stopped(step)

    if step in ("save_case", "set_review_status"):
        monkeypatch.setattr(store, step, stop)
    elif step == "append":
        monkeypatch.setattr(audit, "append", stop)
    elif step == "publish":
        monkeypatch.setattr(flow, "publish", stop)
    else:
        monkeypatch.setattr(intents, "_drop", stop)


def _stopped_change(
    store: Store, monkeypatch: pytest.MonkeyPatch, listing_id: str, step: str
) -> tuple[Versioned[Case], Case]:
    """A confirmation of a fresh case, stopped just before `step`: the case as it stood, and the change."""
    item = scored("sua-acme", listing_id, 0.9)
    seed_scored(store, [item])
    current = store.get_case(open_case(store, item).case_id)
    confirmed = current.record.transition(CaseState.CONFIRMED, "inspector:lan")
    with monkeypatch.context() as patched:
        _stop_at(patched, store, step)
        with pytest.raises(Stopped):
            flow.commit_change(store, "inspector:lan", current, confirmed, "review.confirm", "transitioned", None, None)
    return current, confirmed


@pytest.mark.parametrize("step", STEPS)
def test_a_change_stopped_before_any_step_is_whole_after_restart(
    store: Store, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    current, confirmed = _stopped_change(store, monkeypatch, "1", step)
    opened, item = current.record, scored("sua-acme", "1", 0.9)

    assert intents.redrive_all(store) == 1  # the restart
    saved = store.get_case(opened.case_id)
    assert saved.record.state is CaseState.CONFIRMED
    assert store.get_scored(item.listing.key, "sua-acme") is not None
    status = store.docs.get("scored", f"{item.listing.key}|sua-acme").body["review_status"]
    assert status == "confirmed"
    entries = audit.list_entries(store, 10, 0, obj=f"case:{opened.case_id}")[0]
    assert [(e.action, e.after["version"]) for e in entries] == [("review.confirm", saved.version)]
    event = case_event(confirmed, "transitioned", "inspector:lan", saved.version)
    assert [e.event_id for e in Outbox(store).oldest()] == [event.event_id]
    assert audit.verify(store).ok
    assert store.docs.count(CASE_INTENTS.name) == 0
    assert intents.redrive_all(store) == 0


def test_the_next_change_of_the_case_finishes_a_stopped_one_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    current, _ = _stopped_change(store, monkeypatch, "2", "append")
    opened = current.record
    # Another inspector, from the case as it stood: the half-made change is finished, this one is stale.
    dismissed = current.record.transition(CaseState.DISMISSED, "inspector:mai")
    with pytest.raises(ConflictError):
        flow.commit_change(store, "inspector:mai", current, dismissed, "review.dismiss", "transitioned", None, None)
    assert store.get_case(opened.case_id).record.state is CaseState.CONFIRMED
    assert [e.action for e in audit.list_entries(store, 10, 0, obj=f"case:{opened.case_id}")[0]] == ["review.confirm"]
    assert audit.verify(store).ok


def test_a_change_overtaken_before_its_save_leaves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    current, _ = _stopped_change(store, monkeypatch, "3", "save_case")
    opened = current.record
    # Before any restart, the classifier re-scores the case: the stopped change is now stale.
    store.save_case(current.record.model_copy(update={"score": 0.95}), current.version)
    assert intents.redrive_all(store) == 1
    assert store.get_case(opened.case_id).record.state is CaseState.OPEN
    assert audit.list_entries(store, 10, 0, obj=f"case:{opened.case_id}")[1] == 0
    assert Outbox(store).count() == 0


def test_the_api_finishes_half_made_changes_at_start_up(
    tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from kcnguard.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", namespace=namespace)
    store = Store(SqliteDocumentStore(tmp_path / "s.db", namespace=namespace))
    store.setup()
    opened = _stopped_change(store, monkeypatch, "4", "append")[0].record
    assert audit.list_entries(store, 10, 0, obj=f"case:{opened.case_id}")[1] == 0
    with TestClient(create_app(settings, store)):
        pass
    assert [e.action for e in audit.list_entries(store, 10, 0, obj=f"case:{opened.case_id}")[0]] == ["review.confirm"]
    assert store.docs.count(CASE_INTENTS.name) == 0
    store.close()
