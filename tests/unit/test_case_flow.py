"""One case flow: the classifier's openings and re-scores are audited and announced as the API's changes are."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from api.auth.enums import ROLE_SCOPES, Role
from api.auth.models import Principal
from api.cases.changes import commit_change
from classifier.service import build_handler
from kcnguard.bus.embedded import EmbeddedBus
from kcnguard.cases import audit
from kcnguard.cases.collections import AUDIT
from kcnguard.cases.events import case_event
from kcnguard.cases.outbox import Outbox
from kcnguard.errors import StoreUnavailable
from kcnguard.records import Case, CaseEvent, CaseState, Listing
from kcnguard.settings import Settings
from kcnguard.store import Store
from kcnguard.topics import CASE_EVENTS

pytest_plugins = ["tests.unit.test_api_support", "tests.unit.test_classifier_service"]

FAKES = [
    "Giày Lotus Step Runner rep 1:1 full box",
    "Giày Lotus Step Runner siêu cấp hàng nhái",
    "Giày Lotus Step Runner fake loại 1 giá xưởng",
]


def _listing(title: str, listing_id: str) -> Listing:
    return Listing(
        marketplace="shopee",
        listing_id=listing_id,
        url=f"https://shopee.vn/i/{listing_id}",
        title=title,
        price=150_000,
        evidence_digest=hashlib.sha256(title.encode()).hexdigest(),
    )


def _events(bus: EmbeddedBus) -> list[CaseEvent]:
    bus.flush()
    with bus.subscribe("t-events", [CASE_EVENTS]) as consumer:
        out: list[CaseEvent] = []
        while batch := consumer.poll(500, 0.2):
            out.extend(CaseEvent.model_validate_json(m.value) for m in batch)
            consumer.commit(batch)
        return out


def _entries(store: Store, obj: str | None = None) -> list[audit.AuditEntry]:
    store.refresh()
    entries, _ = audit.list_entries(store, 100, 0, obj=obj)
    return entries[::-1]


def test_an_opened_case_is_audited_and_announced_by_the_shared_builder(env, tmp_path: Path, trained) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    fake = _listing(FAKES[0], "1")
    handle([fake])
    (event,) = _events(bus)
    case = store.get_case(Case.make_id(fake.key, "lotus-step"))
    assert case is not None
    assert event == case_event(case.record, "opened", "classifier", at=case.record.created_at)
    (entry,) = _entries(store, f"case:{case.record.case_id}")
    assert (entry.actor, entry.action, entry.before) == ("classifier", "case.open", None)
    assert entry.after == {
        "state": "open",
        "review_status": "new",
        "agencies": [],
        "version": case.version,
        "score": case.record.score,
    }

    handle([fake])  # the batch delivered again: the same event id, and no second entry
    assert [e.event_id for e in _events(bus)] == [event.event_id]
    assert len(_entries(store)) == 1


def test_the_chain_verifies_after_classifier_and_api_changes(env, tmp_path: Path, trained) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    fakes = [_listing(title, str(i)) for i, title in enumerate(FAKES)]
    handle(fakes)  # one batch: its openings are one append
    first, second = (store.get_case(Case.make_id(f.key, "lotus-step")) for f in fakes[:2])
    assert first is not None and second is not None

    inspector = Principal("lan", Role.INSPECTOR, ROLE_SCOPES[Role.INSPECTOR])
    confirmed = first.record.transition(CaseState.CONFIRMED, inspector.actor)
    commit_change(store, inspector, first, confirmed, "case.transition", "transitioned", None, None)
    store.save_case(second.record.model_copy(update={"score": 0.6}), second.version)  # as an older model scored it
    handle([fakes[1]])

    entries = _entries(store)
    assert [(e.actor, e.action) for e in entries] == [
        *[("classifier", "case.open")] * len(fakes),
        ("inspector:lan", "case.transition"),
        ("classifier", "case.rescore"),
    ]
    assert entries[-1].before is not None and entries[-1].before["score"] == 0.6
    assert audit.verify(store).ok and audit.verify(store).entries == len(entries)
    kinds = [e.kind for e in _events(bus)]
    assert kinds.count("opened") == len(fakes) + 1 and kinds[-1] == "rescored"  # untouched: "opened" repeated
    (queued,) = Outbox(store).oldest()  # the API's change waits in the outbox for its publisher
    assert queued == case_event(confirmed, "transitioned", inspector.actor, queued.event_id.split(":")[1])


def test_batches_and_single_appends_racing_form_one_chain(store: Store) -> None:
    barrier = threading.Barrier(6)
    batches: list[list[audit.AuditEntry]] = []

    def batch_writer(n: int) -> None:
        barrier.wait()
        for i in range(3):
            drafts = [audit.Draft("classifier", "case.open", f"case:{n}-{i}-{j}") for j in range(10)]
            batches.append(audit.append_many(store, drafts))

    def single_writer(n: int) -> None:
        barrier.wait()
        for i in range(10):
            audit.append(store, f"inspector:w{n}", "case.transition", f"case:{n}-{i}")

    threads = [threading.Thread(target=batch_writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=single_writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify(store)
    assert result.ok and result.entries == 3 * 3 * 10 + 3 * 10
    for batch in batches:  # no other writer's entry lands inside a batch
        assert [e.seq for e in batch] == list(range(batch[0].seq, batch[0].seq + 10))


def test_a_batch_left_half_way_is_written_by_the_next_writer(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    audit.append(store, "inspector:lan", "case.transition", "case:a")
    real = store.docs.bulk_write

    def entries_refused(collection: str, writes):  # the store goes down after the head moved
        if collection == AUDIT.name:
            raise StoreUnavailable("down for the test")
        return real(collection, writes)

    monkeypatch.setattr(store.docs, "bulk_write", entries_refused)
    with pytest.raises(StoreUnavailable):
        audit.append_many(store, [audit.Draft("classifier", "case.open", f"case:b{i}") for i in range(3)])
    monkeypatch.setattr(store.docs, "bulk_write", real)
    audit.append(store, "inspector:lan", "case.transition", "case:c")
    assert [e.object for e in _entries(store)] == ["case:a", "case:b0", "case:b1", "case:b2", "case:c"]
    assert audit.verify(store).ok
