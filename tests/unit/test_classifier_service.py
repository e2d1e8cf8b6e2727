"""The classifier handler on the embedded bus and SQLite store: listing in; score, case and event out, once."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from classifier.model import TrainedModel
from classifier.seed_data import seed_brands
from classifier.service import BrandRegistry, ClassifierHandler, build_handler
from classifier.training.fit import train_seed
from kcnguard.bus.embedded import EmbeddedBus
from kcnguard.bus.worker import RecordWorker
from kcnguard.errors import StoreUnavailable
from kcnguard.records import Brand, CaseEvent, CaseState, Listing, ScoredListing
from kcnguard.settings import Settings
from kcnguard.store import Query, Store
from kcnguard.store.sqlite import SqliteDocumentStore
from kcnguard.topics import CASE_EVENTS, RAW_LISTINGS, SCORED_LISTINGS


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_seed()


@pytest.fixture
def env(tmp_path: Path, namespace: str):
    bus = EmbeddedBus(tmp_path / "bus.sqlite3", namespace=namespace, retention_hours=24)
    store = Store(SqliteDocumentStore(tmp_path / "store.sqlite3", namespace=namespace))
    store.setup()
    bus.ensure_topics()
    for brand in seed_brands():
        store.put_brand(brand)
    yield bus, store
    bus.close()
    store.close()


def raw(title: str, price: float, listing_id: str = "100", **extra: object) -> Listing:
    return Listing(
        marketplace="shopee",
        listing_id=listing_id,
        url=f"https://shopee.vn/i/{listing_id}",
        title=title,
        price=price,
        evidence_digest=hashlib.sha256(title.encode()).hexdigest(),
        **extra,
    )


def run_worker(bus: EmbeddedBus, handler: ClassifierHandler, messages: int) -> RecordWorker:
    """The classifier's worker loop over the raw topic until `messages` are settled (or 20 polls)."""
    worker = RecordWorker(bus, "classifier", RAW_LISTINGS, handler, poll_seconds=0.2)
    try:
        settled = 0
        for _ in range(20):
            settled += worker.run_once()
            if settled >= messages:
                break
    finally:
        worker.close()
    return worker


def drain(bus: EmbeddedBus, topic, group: str) -> list[bytes]:
    with bus.subscribe(group, [topic]) as consumer:
        out: list[bytes] = []
        while batch := consumer.poll(500, 0.2):
            out.extend(m.value for m in batch)
            consumer.commit(batch)
        return out


def test_a_counterfeit_listing_is_stored_scored_and_opens_one_case(env, tmp_path: Path, trained: TrainedModel) -> None:
    bus, store = env
    settings = Settings(data_dir=tmp_path / "data")
    handle = build_handler(store, bus, settings, trained)
    fake = raw("Giày Lotus Step Runner rep 1:1 full box", 150_000, "1")
    case_brand = raw("Ốp lưng cho Kira Phone X2", 30_000, "2")
    unbranded = raw("Khăn mặt cotton", 20_000, "3")
    handle([fake, case_brand, unbranded])
    bus.flush()

    assert store.get_listing(fake.key) is not None and store.get_listing(unbranded.key) is not None
    scored = store.get_scored(fake.key, "lotus-step")
    assert scored is not None and scored.flagged and scored.model_version == trained.version
    accessory = store.get_scored(case_brand.key, "kira-phone")
    assert accessory is not None and not accessory.flagged
    store.refresh()
    cases = store.search_cases(Query(size=50)).items
    assert [(c.listing_key, c.brand_id) for c in cases] == [(fake.key, "lotus-step")]
    assert cases[0].history[0].actor == "classifier"

    events = [CaseEvent.model_validate_json(v) for v in drain(bus, CASE_EVENTS, "t-events")]
    assert [(e.kind, e.listing_key) for e in events] == [("opened", fake.key)]
    published = [ScoredListing.model_validate_json(v) for v in drain(bus, SCORED_LISTINGS, "t-scored")]
    assert {(s.listing.key, s.brand_id) for s in published} == {
        (fake.key, "lotus-step"),
        (case_brand.key, "kira-phone"),
    }

    # Replaying the batch (at-least-once delivery) creates no second case; the untouched case's
    # event goes out again with the same id (a crash may have lost the first), for consumers to drop.
    handle([fake, case_brand, unbranded])
    bus.flush()
    store.refresh()
    assert store.search_cases(Query(size=50)).total == 1
    again = [CaseEvent.model_validate_json(v) for v in drain(bus, CASE_EVENTS, "t-events")]
    assert [e.event_id for e in again] == [e.event_id for e in events]

    # Once an inspector has acted on the case, a re-score announces nothing more.
    current = store.get_case(cases[0].case_id)
    store.save_case(current.record.transition(CaseState.CONFIRMED, "inspector-a"), current.version)
    handle([fake])
    bus.flush()
    assert drain(bus, CASE_EVENTS, "t-events") == []
    assert len(store.get_listing(fake.key).record.history) == 1


def test_the_worker_runs_the_handler_from_the_raw_topic(env, tmp_path: Path, trained: TrainedModel) -> None:
    bus, store = env
    settings = Settings(data_dir=tmp_path / "data")
    bus.publish_records(RAW_LISTINGS, [raw("Đồng hồ Mekong Watch siêu cấp", 300_000, "9")])
    bus.publish(RAW_LISTINGS, b'{"not": "a listing"}')
    bus.flush()
    worker = run_worker(bus, build_handler(store, bus, settings, trained), 2)
    assert worker.stats.handled == 1 and worker.stats.dead_lettered == 1
    assert store.get_scored("shopee:9", "mekong-watch").flagged


def test_new_brands_are_picked_up_after_the_ttl(env) -> None:
    _bus, store = env
    now = [0.0]
    registry = BrandRegistry(store, ttl=30, clock=lambda: now[0])
    before = {b.brand_id for b in registry.brands()}
    newcomer = Brand(brand_id="que-huong", owner_id="o", owner_name="O", name="Quê Hương")
    store.put_brand(newcomer)
    store.refresh()
    assert {b.brand_id for b in registry.brands()} == before  # still cached
    now[0] = 31.0
    assert "que-huong" in {b.brand_id for b in registry.brands()}


def test_store_outages_propagate_so_the_worker_retries(env, tmp_path: Path, trained: TrainedModel) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)

    def down(*_args: object, **_kw: object) -> None:
        raise StoreUnavailable("store down")

    store.upsert_listings = down  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        handle([raw("Giày Lotus Step rep", 100_000)])


def test_records_other_than_listings_are_refused(env, tmp_path: Path, trained: TrainedModel) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    with pytest.raises(TypeError, match="Listing"):
        handle([seed_brands()[0]])


def test_run_stops_when_asked(tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch, trained) -> None:
    from classifier import service

    monkeypatch.setattr(service, "load_model", lambda *_a, **_k: trained)
    settings = Settings(data_dir=tmp_path / "data", namespace=namespace, worker_poll_seconds=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(settings, stop))
    thread.start()
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_the_worker_follows_the_registrys_current_model(env, tmp_path: Path) -> None:
    from dataclasses import replace

    from classifier.artifacts import ModelRegistry
    from classifier.seed_data import seed_rows, seed_version
    from classifier.training.fit import train

    bus, store = env
    settings = Settings(data_dir=tmp_path / "data")
    handle = build_handler(store, bus, settings)  # no model given: the registry's current, built on first use
    registry = ModelRegistry(settings.data_dir / "models")
    assert registry.current_version() == seed_version() == handle.model.version
    handle([raw("Giày Lotus Step Runner rep 1:1 full box", 150_000, "1")])
    assert store.get_scored("shopee:1", "lotus-step").model_version == seed_version()

    other = train(seed_rows()[::2], seed_brands(), "half-seed")
    registry.save(other, replace(registry.manifest(seed_version()), version="half-seed", kind="trained"))
    registry.set_current("half-seed", by="test", reason="roll forward")
    handle([raw("Giày Lotus Step Runner rep 1:1 full box", 150_000, "2")])
    assert store.get_scored("shopee:2", "lotus-step").model_version == "half-seed"

    # A pointer to a model that fails its digest check is refused; the worker keeps scoring.
    (registry.path(seed_version()) / "model.joblib").write_bytes(b"tampered")
    registry_pointer = registry.root / "current"
    registry_pointer.write_text(registry_pointer.read_text().replace("half-seed", seed_version()))
    handle([raw("Giày Lotus Step Runner rep 1:1 full box", 150_000, "3")])
    assert store.get_scored("shopee:3", "lotus-step").model_version == "half-seed"


def test_a_rescored_open_case_is_updated_and_announced(env, tmp_path: Path, trained: TrainedModel) -> None:
    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    fake = raw("Giày Lotus Step Runner rep 1:1 full box", 150_000, "1")
    handle([fake])
    bus.flush()
    assert [CaseEvent.model_validate_json(v).kind for v in drain(bus, CASE_EVENTS, "t-events")] == ["opened"]
    from kcnguard.records import Case

    stored = store.get_case(Case.make_id(fake.key, "lotus-step"))
    store.save_case(stored.record.model_copy(update={"score": 0.6}), stored.version)  # as an older model scored it
    handle([fake])
    bus.flush()
    events = [CaseEvent.model_validate_json(v) for v in drain(bus, CASE_EVENTS, "t-events")]
    assert [e.kind for e in events] == ["opened", "rescored"]  # untouched so far: "opened" is repeated too
    assert store.get_case(events[-1].case_id).record.score == pytest.approx(events[-1].score) != 0.6


def test_the_seller_history_counts_flagged_and_confirmed_scores(env, tmp_path: Path, trained: TrainedModel) -> None:
    from classifier.seller_history import StoreSellerHistory
    from kcnguard.records import Case

    bus, store = env
    handle = build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained)
    seller = {"seller": {"id": "shop-9", "name": "Shop 9"}}
    listings = [
        raw("Giày Lotus Step Runner rep 1:1 full box", 150_000, "1", **seller),
        raw("Giày Lotus Step Runner siêu cấp hàng nhái", 120_000, "2", **seller),
        raw("Giày Lotus Step Runner chính hãng", 900_000, "3", **seller),
        raw("Giày Lotus Step Runner chính hãng", 900_000, "4", seller={"id": "shop-1"}),
    ]
    handle(listings)
    store.refresh()
    history = StoreSellerHistory(store)
    flagged = [store.get_scored(f"shopee:{i}", "lotus-step").flagged for i in "123"]
    assert history.share_flagged("shopee", "shop-9") == (pytest.approx(sum(flagged) / 3), 3)
    assert history.share_flagged("shopee", "nobody") is None and history.share_flagged("lazada", "shop-9") is None

    # An inspector's dismissal outweighs the model's flag; the cached answer holds until the next batch.
    first = next(i for i, f in zip("123", flagged, strict=True) if f)
    stored = store.get_case(Case.make_id(f"shopee:{first}", "lotus-step"))
    store.save_case(stored.record.transition(CaseState.DISMISSED, "inspector-a"), stored.version)
    store.set_review_status(f"shopee:{first}", "lotus-step", "dismissed")
    store.refresh()
    assert history.share_flagged("shopee", "shop-9")[0] == pytest.approx(sum(flagged) / 3)
    history.new_batch()
    assert history.share_flagged("shopee", "shop-9") == (pytest.approx((sum(flagged) - 1) / 3), 3)


def test_a_configured_model_path_must_be_a_verified_artifact(env, tmp_path: Path) -> None:
    from classifier.artifacts import ArtifactError, ModelRegistry
    from classifier.seed_data import seed_version
    from classifier.training.default_model import ensure_current

    bus, store = env
    ensure_current(tmp_path / "elsewhere", None)
    artifact = ModelRegistry(tmp_path / "elsewhere" / "models").path(seed_version())
    handler = build_handler(store, bus, Settings(data_dir=tmp_path / "data", model_path=str(artifact)))
    assert handler.model.version == seed_version() and handler.models.registry is None  # pinned: no following
    with pytest.raises(ArtifactError, match="not a model artifact"):
        build_handler(store, bus, Settings(data_dir=tmp_path / "data", model_path=str(artifact / "model.joblib")))
    (artifact / "model.joblib").write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="changed after it was written"):
        build_handler(store, bus, Settings(data_dir=tmp_path / "data", model_path=str(artifact)))
