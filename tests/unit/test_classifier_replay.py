"""Re-delivery gives the same score, and a case follows its score (or says why it stays open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.model import TrainedModel
from classifier.service import build_handler
from classifier.training.fit import train_seed
from kcnguard.cases import audit
from kcnguard.cases.flow import KEPT_OPEN, SCORE_DROPPED, SCORE_ROSE
from kcnguard.records import Case, CaseEvent, CaseState, Listing, Seller
from kcnguard.settings import Settings
from kcnguard.store import Query, Store
from kcnguard.topics import CASE_EVENTS
from tests.unit.test_classifier_service import drain, raw

pytest_plugins = ["tests.unit.test_classifier_service"]

FAKES = [
    "Giày Lotus Step Runner rep 1:1 full box",
    "Giày Lotus Step Court Low hàng fake loại 1",
    "Lotus Step Runner super fake giá rẻ",
    "Giày Lotus Step siêu cấp like auth",
    "Lotus Step Court Low replica 1:1",
    "Giày Lotus Step Runner hàng nhái đẹp",
]
CLEAN = "Giày Lotus Step Runner chính hãng có hóa đơn VAT"


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_seed()


def sold_by(seller: str, title: str, listing_id: str) -> Listing:
    return raw(title, 1_500_000 if title == CLEAN else 150_000, listing_id, seller=Seller(id=seller, name="Shop A"))


def snapshot(store: Store) -> tuple[dict[str, float], dict[str, str]]:
    store.refresh()
    scores = {s.key: s.score for s in store.search_scored(Query(size=500)).items}
    cases = {c.case_id: str(c.state) for c in store.search_cases(Query(size=500)).items}
    return scores, cases


def fakes_after_clean_history(env, data_dir: Path, model: TrainedModel, seller: str, clean: int):
    """A seller's `clean` listings scored first (its history), then a batch of its fakes; the handler and batch."""
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=data_dir), model)
    handle([sold_by(seller, CLEAN, f"old{i}") for i in range(clean)])
    batch = [sold_by(seller, title, f"new{i}") for i, title in enumerate(FAKES)]
    handle(batch)
    return handle, batch


def test_replaying_a_batch_twice_gives_the_same_scores_and_cases(env, tmp_path: Path, trained: TrainedModel) -> None:
    store = env[1]
    handle, batch = fakes_after_clean_history(env, tmp_path / "data", trained, "shop-a", 4)
    first = snapshot(store)
    opened = audit.list_entries(store, 1, 0, action="case.open")[1]
    for _ in range(2):
        handle(batch)
        assert snapshot(store) == first
    assert audit.list_entries(store, 1, 0, action="case.open")[1] == opened
    assert audit.list_entries(store, 1, 0, action="case.rescore")[1] == 0
    assert audit.verify(store).ok


def test_the_sellers_history_leaves_out_the_batchs_own_listings(env, tmp_path: Path, trained: TrainedModel) -> None:
    handle, batch = fakes_after_clean_history(env, tmp_path / "data", trained, "shop-b", 3)
    history = handle.seller_history
    history.new_batch(batch)
    assert history.share_flagged("shopee", "shop-b") == (0.0, 3)
    history.new_batch([])
    share, count = history.share_flagged("shopee", "shop-b")
    assert count == 3 + len(FAKES) and share > 0


def _case(store: Store, listing: Listing) -> Case:
    found = store.get_case(Case.make_id(listing.key, "lotus-step"))
    assert found is not None
    return found.record


def test_an_untouched_case_whose_score_drops_is_dismissed_and_reopens_when_it_rises(
    env, tmp_path: Path, trained: TrainedModel
) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    fake = raw(FAKES[0], 150_000, "7")
    handle([fake])
    assert _case(store, fake).state is CaseState.OPEN
    drain(bus, CASE_EVENTS, "t-events")

    cleaned = raw(CLEAN, 1_500_000, "7")  # the seller rewrote the listing
    handle([cleaned])
    case = _case(store, fake)
    assert case.state is CaseState.DISMISSED and case.history[-1].note == SCORE_DROPPED
    assert case.score == store.get_scored(fake.key, "lotus-step").score < 0.5
    assert store.get_scored(fake.key, "lotus-step").model_dump()["flagged"] is False
    (entry,) = audit.list_entries(store, 5, 0, action="case.auto_dismiss")[0]
    assert entry.note.startswith(SCORE_DROPPED) and entry.after["state"] == "dismissed"
    bus.flush()
    events = [CaseEvent.model_validate_json(v) for v in drain(bus, CASE_EVENTS, "t-events")]
    assert [(e.kind, e.state) for e in events] == [("transitioned", CaseState.DISMISSED)]
    handle([cleaned])  # re-delivered: nothing more
    bus.flush()
    assert drain(bus, CASE_EVENTS, "t-events") == []

    handle([raw(FAKES[0], 150_000, "7")])
    case = _case(store, fake)
    assert case.state is CaseState.OPEN and case.history[-1].note == SCORE_ROSE
    assert audit.list_entries(store, 5, 0, action="case.auto_reopen")[1] == 1
    assert audit.verify(store).ok


def test_a_case_an_inspector_acted_on_stays_open_with_the_reason(env, tmp_path: Path, trained: TrainedModel) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    fake = raw(FAKES[0], 150_000, "8")
    handle([fake])
    current = store.get_case(Case.make_id(fake.key, "lotus-step"))
    store.save_case(current.record.request_info("inspector:lan", "cần ảnh"), current.version)
    cleaned = raw(CLEAN, 1_500_000, "8")
    handle([cleaned])
    handle([cleaned])
    case = _case(store, fake)
    assert case.state is CaseState.OPEN and case.score < 0.5
    entries = audit.list_entries(store, 5, 0, action="case.rescore")[0]
    assert len(entries) == 1 and KEPT_OPEN in (entries[0].note or "")
