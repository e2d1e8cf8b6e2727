"""Shared fixtures for the API tests: a real SQLite store, the app on it, keys of every role, records to seed.

Imported by the other test_api_*.py modules; it holds no tests of its own.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.collections import COLLECTIONS as API_COLLECTIONS
from api.keys import create_key
from api.main import create_app
from kcnguard.bus import open_bus
from kcnguard.records import Brand, Case, CaseEvent, Listing, Reason, ScoredListing, Seller
from kcnguard.settings import Settings
from kcnguard.store import Store, open_store
from kcnguard.topics import CASE_EVENTS


@dataclass(frozen=True)
class Keys:
    admin: str
    inspector: str
    acme: str  # enterprise owning brands of owner "acme"
    beta: str  # enterprise owning brands of owner "beta"
    partner: str


@pytest.fixture
def store(tmp_path: Path, namespace: str) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path}/s.db", namespace=namespace)
    opened.setup(API_COLLECTIONS)
    yield opened
    opened.close()


@pytest.fixture
def settings(tmp_path: Path, namespace: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", namespace=namespace)


def enterprise_body(enterprise_id: str) -> dict[str, object]:
    return {
        "enterprise_id": enterprise_id,
        "name": f"Công ty {enterprise_id}",
        "tax_code": "0101234567",
        "zone": "KCN Quang Minh",
        "contact": {"name": "Nguyễn Văn An", "email": f"an@{enterprise_id}.example", "phone": "0912345678"},
    }


@pytest.fixture
def keys(store: Store) -> Keys:
    from api.enterprises.service import ensure_enterprise

    # Brands may only name registered enterprises.
    for enterprise_id in ("acme", "beta"):
        ensure_enterprise(store, enterprise_body(enterprise_id))
    return Keys(
        admin=create_key(store, "ops", "admin"),
        inspector=create_key(store, "thanh tra Lan", "inspector"),
        acme=create_key(store, "Acme portal", "enterprise", owner_id="acme"),
        beta=create_key(store, "Beta portal", "enterprise", owner_id="beta"),
        partner=create_key(store, "QLTT tỉnh", "partner", owner_id="qltt"),
    )


@pytest.fixture
def client(settings: Settings, store: Store, keys: Keys) -> Iterator[TestClient]:
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def trademark_number(owner_id: str) -> str:
    """An IP Viet Nam certificate number of this owner's own: a number belongs to one owner."""
    return "4-0312345-000" if owner_id == "acme" else f"4-{zlib.crc32(owner_id.encode()) % 10_000_000:07d}-000"


def brand_body(brand_id: str = "sua-acme", owner_id: str = "acme", **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "brand_id": brand_id,
        "owner_id": owner_id,
        "owner_name": f"Công ty {owner_id}",
        "name": f"Nhãn {brand_id}",
        "aliases": ["alias " + brand_id],
        "trademarks": [{"number": trademark_number(owner_id), "nice_classes": [29, 32]}],
        "products": [{"name": "Sữa tươi 1L", "reference_price_vnd": 32000}],
    }
    body.update(changes)
    return body


def seed_brand(store: Store, brand_id: str, owner_id: str, name: str | None = None) -> Brand:
    return store.put_brand(
        Brand(brand_id=brand_id, owner_id=owner_id, owner_name=f"Công ty {owner_id}", name=name or brand_id)
    )


REASONS = [
    Reason(
        code="price_far_below", weight=1.8, vi="Giá thấp hơn nhiều so với giá tham khảo", en="Price far below reference"
    ),
    Reason(code="counterfeit_term", weight=2.4, vi="Tiêu đề có từ 'hàng nhái'", en="Title says 'replica'"),
]


def scored(
    brand_id: str,
    listing_id: str,
    score: float,
    title: str = "Sữa tươi giá rẻ",
    flagged: bool | None = None,
    price: float = 9000,
    captured_at: datetime | None = None,
) -> ScoredListing:
    listing = Listing(
        marketplace="demo",
        listing_id=listing_id,
        url=f"https://demo.example/item/{listing_id}",
        title=title,
        price=price,
        seller=Seller(id=f"s-{listing_id}", name=f"Shop {listing_id}"),
        captured_at=captured_at or datetime(2024, 5, 1, tzinfo=UTC),
        evidence_digest=hashlib.sha256(listing_id.encode()).hexdigest(),
    )
    return ScoredListing(
        listing=listing,
        brand_id=brand_id,
        score=score,
        flagged=score >= 0.5 if flagged is None else flagged,
        threshold=0.5,
        reasons=REASONS,
        model_version="test-1",
    )


def seed_scored(store: Store, items: list[ScoredListing], with_listings: bool = True) -> None:
    if with_listings:
        store.upsert_listings([s.listing for s in items])
        # A second sighting a day later, so history has more than one entry.
        store.upsert_listings(
            [s.listing.model_copy(update={"captured_at": s.listing.captured_at + timedelta(days=1)}) for s in items]
        )
    store.put_scored(items)
    store.refresh()


def open_case(store: Store, item: ScoredListing) -> Case:
    case, _ = store.open_case(Case.open_for(item.listing.key, item.brand_id, item.score, actor="classifier"))
    store.refresh()
    return case.record


def case_events(
    settings: Settings, enough: Callable[[list[CaseEvent]], bool], group: str = "test-events", timeout: float = 10.0
) -> list[CaseEvent]:
    """The case events the API's outbox sent to the bus, read until `enough` holds or the timeout passes."""
    found: list[CaseEvent] = []
    with (
        open_bus(settings.bus_url, namespace=settings.namespace, data_dir=settings.data_dir) as bus,
        bus.subscribe(group, [CASE_EVENTS]) as consumer,
    ):
        deadline = time.monotonic() + timeout
        while not enough(found) and time.monotonic() < deadline:
            found.extend(CaseEvent.model_validate_json(m.value) for m in consumer.poll(100, timeout=0.5))
    return found
