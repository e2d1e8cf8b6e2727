"""One contract, both store backends: every test runs unchanged on SQLite and (when configured) Elasticsearch.

Elasticsearch runs when KCNGUARD_TEST_ELASTICSEARCH names a server (e.g. elasticsearch://127.0.0.1:9200).
Each test gets its own namespace, so indices and tables are fresh, and drops them afterwards.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kcnguard.errors import ConflictError, StoreUnavailable
from kcnguard.records import Brand, Case, CaseState, Listing, ScoredListing, Seller
from kcnguard.store import CREATE, DocumentStore, Page, Query, Store, Write, open_document_store
from kcnguard.store.base import MAX_WINDOW
from kcnguard.store.schema import Collection, Kind, searchable
from tests.conftest import elasticsearch_url

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Backend:
    name: str
    url: str
    namespace: str
    docs: DocumentStore


@pytest.fixture(params=["sqlite", "elasticsearch"])
def backend(request: pytest.FixtureRequest, namespace: str, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'store.sqlite3'}"
    else:
        url = elasticsearch_url()
        if not url:
            pytest.skip(
                "KCNGUARD_TEST_ELASTICSEARCH is not set: the Elasticsearch half of the store contract is skipped"
            )
    docs = open_document_store(url, namespace=namespace)
    docs.setup()
    yield Backend(request.param, url, namespace, docs)
    try:
        docs.drop()  # type: ignore[attr-defined]
    finally:
        docs.close()


@pytest.fixture
def docs(backend: Backend) -> DocumentStore:
    return backend.docs


@pytest.fixture
def store(backend: Backend) -> Store:
    return Store(backend.docs)


# Sample documents -------------------------------------------------------------------------------

# id, brand_id, flagged, score, title, marketplace, scored_at (None: the field is absent)
SCORED_ROWS: list[tuple[str, str, bool, float | None, str, str, str | None]] = [
    ("s1", "biti", True, 0.9, "Giày thể thao Biti's Hunter chính hãng", "shopee", "2024-03-01T08:00:00+07:00"),
    ("s2", "biti", True, 0.7, "Dép Biti's nam", "tiki", "2024-03-02T00:00:00Z"),
    ("s3", "biti", False, 0.2, "Giày da nữ", "shopee", "2024-03-03T00:00:00Z"),
    ("s4", "vinamilk", True, 0.7, "Sữa tươi Vinamilk 1L", "lazada", "2024-03-04T00:00:00Z"),
    ("s5", "vinamilk", False, 0.7, "Đồng hồ nam giá rẻ", "shopee", None),
    ("s6", "biti", True, None, "Balo học sinh", "tiki", "2024-03-05T00:00:00.250Z"),
]


def scored_body(brand: str, flagged: bool, score: float | None, title: str, market: str, at: str | None) -> dict:
    body: dict[str, Any] = {
        "brand_id": brand,
        "flagged": flagged,
        "listing": {"title": title, "marketplace": market, "seller": {"id": "shop-1"}},
        "undeclared": {"anything": [1, 2, 3]},
    }
    if score is not None:
        body["score"] = score
    if at is not None:
        body["scored_at"] = at
    return body


@pytest.fixture
def seeded(docs: DocumentStore) -> DocumentStore:
    # Written out of id order, so a result in id order proves the tie-break rather than insertion order.
    order = [SCORED_ROWS[i] for i in (4, 2, 5, 3, 0, 1)]
    results = docs.bulk_write("scored", [Write(row[0], scored_body(*row[1:])) for row in order])
    assert all(r.ok for r in results), results
    docs.refresh("scored")
    return docs


def ids(page: Page) -> list[str]:
    return [d.id for d in page.docs]


def found(docs: DocumentStore, **query: Any) -> set[str]:
    page = docs.search("scored", Query(size=100, **query))
    assert page.total == len(page.docs)
    return set(ids(page))


T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def listing(listing_id: str = "1001", at: datetime = T0, price: float = 350_000, title: str = "Giày Biti's Hunter X"):
    return Listing(
        marketplace="shopee",
        listing_id=listing_id,
        url=f"https://shopee.vn/product/{listing_id}",
        title=title,
        price=price,
        seller=Seller(id="shop-9", name="Shop Chín"),
        captured_at=at,
        evidence_digest=hashlib.sha256(f"{listing_id}@{at.isoformat()}|{price}".encode()).hexdigest(),
        crawl_job_id="job-1",
    )


def scored(item: Listing, brand_id: str, score: float, flagged: bool) -> ScoredListing:
    return ScoredListing(
        listing=item, brand_id=brand_id, score=score, flagged=flagged, threshold=0.5, model_version="m-test"
    )


def brand(brand_id: str, owner_id: str, name: str) -> Brand:
    return Brand(brand_id=brand_id, owner_id=owner_id, owner_name=f"Công ty {name}", name=name)


# Setup and plain documents ------------------------------------------------------------------------


def test_setup_is_idempotent_and_keeps_documents(docs: DocumentStore) -> None:
    docs.put("brands", "b1", {"brand_id": "b1", "name": "Biti's"})
    docs.setup()
    docs.setup()
    docs.ping()
    doc = docs.get("brands", "b1")
    assert doc is not None and doc.body["name"] == "Biti's"


def test_setup_from_two_processes_at_once(backend: Backend) -> None:
    script = (
        "import sys; from kcnguard.store import open_document_store as o; "
        "s = o(sys.argv[1], namespace=sys.argv[2]); s.setup(); s.setup(); s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, backend.url, backend.namespace],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    backend.docs.put("cases", "c1", {"case_id": "c1"})
    assert backend.docs.get("cases", "c1") is not None


def test_put_get_mget(docs: DocumentStore) -> None:
    body = {"brand_id": "b1", "name": "Vinamilk", "nested": {"deep": ["x", {"y": None}]}, "emoji": "🥛 sữa"}
    written = docs.put("brands", "b1", body)
    docs.put("brands", "b2", {"brand_id": "b2", "name": "Biti's"})
    got = docs.get("brands", "b1")
    assert got is not None
    assert got.body == body
    assert got.version == written.version and isinstance(got.version, str)
    assert docs.get("brands", "missing") is None
    many = docs.mget("brands", ["b2", "missing", "b1", "b1"])
    assert set(many) == {"b1", "b2"}
    assert many["b1"].body == body and many["b1"].version == written.version
    assert docs.mget("brands", []) == {}


def test_every_write_moves_the_version(docs: DocumentStore) -> None:
    versions = {docs.put("brands", "b1", {"n": i}).version for i in range(3)}
    assert len(versions) == 3


def test_create_conflicts_when_the_document_exists(docs: DocumentStore) -> None:
    docs.put("cases", "c1", {"case_id": "c1", "state": "open"}, if_version=CREATE)
    with pytest.raises(ConflictError):
        docs.put("cases", "c1", {"case_id": "c1", "state": "dismissed"}, if_version=CREATE)
    doc = docs.get("cases", "c1")
    assert doc is not None and doc.body["state"] == "open"


def test_stale_version_never_overwrites(docs: DocumentStore) -> None:
    first = docs.put("cases", "c1", {"case_id": "c1", "state": "open"})
    second = docs.put("cases", "c1", {"case_id": "c1", "state": "confirmed"}, if_version=first.version)
    with pytest.raises(ConflictError):
        docs.put("cases", "c1", {"case_id": "c1", "state": "dismissed"}, if_version=first.version)
    doc = docs.get("cases", "c1")
    assert doc is not None and doc.body["state"] == "confirmed" and doc.version == second.version
    third = docs.put("cases", "c1", {"case_id": "c1", "state": "referred"}, if_version=second.version)
    assert third.version != second.version
    for bogus in ("not-a-version", "", "999999:1"):
        with pytest.raises(ConflictError):
            docs.put("cases", "c1", {"case_id": "c1", "state": "closed"}, if_version=bogus)
    with pytest.raises(ConflictError):  # a version cannot hold for a document that does not exist
        docs.put("cases", "nobody", {"case_id": "nobody"}, if_version=third.version)
    doc = docs.get("cases", "c1")
    assert doc is not None and doc.body["state"] == "referred"
    assert docs.get("cases", "nobody") is None


def test_bulk_write_reports_each_item(docs: DocumentStore) -> None:
    old = docs.put("brands", "exists", {"v": 1})
    docs.put("brands", "exists", {"v": 2}, if_version=old.version)
    results = docs.bulk_write(
        "brands",
        [
            Write("new", {"v": 1}),
            Write("exists", {"v": 99}, CREATE),
            Write("exists", {"v": 98}, old.version),
            Write("broken", {"v": float("nan")}),
            Write("", {"v": 1}),
            Write("created", {"v": 1}, CREATE),
        ],
    )
    assert [r.id for r in results] == ["new", "exists", "exists", "broken", "", "created"]
    assert [r.ok for r in results] == [True, False, False, False, False, True]
    assert [r.conflict for r in results] == [False, True, True, False, False, False]
    assert results[3].error and results[4].error
    assert results[0].version and results[5].version
    assert docs.get("brands", "exists").body == {"v": 2}  # type: ignore[union-attr]
    assert docs.get("brands", "broken") is None
    assert set(docs.mget("brands", ["new", "created"])) == {"new", "created"}
    assert docs.bulk_write("brands", []) == []


def test_delete(docs: DocumentStore) -> None:
    docs.put("scored", "gone", scored_body("biti", True, 0.9, "Giày Biti's", "shopee", None))
    assert docs.delete("scored", "gone") is True
    assert docs.delete("scored", "gone") is False
    docs.refresh("scored")
    assert docs.get("scored", "gone") is None
    assert docs.search("scored", Query(text="biti")).total == 0


# Search -------------------------------------------------------------------------------------------


def test_filters_single_list_and_bool(seeded: DocumentStore) -> None:
    assert found(seeded, filters={"brand_id": "biti"}) == {"s1", "s2", "s3", "s6"}
    assert found(seeded, filters={"marketplace": ["shopee", "tiki"]}) == {"s1", "s2", "s3", "s5", "s6"}
    assert found(seeded, filters={"flagged": True}) == {"s1", "s2", "s4", "s6"}
    assert found(seeded, filters={"flagged": False, "brand_id": "vinamilk"}) == {"s5"}
    assert found(seeded, filters={"seller_id": "shop-1", "brand_id": ["biti"]}) == {"s1", "s2", "s3", "s6"}
    assert found(seeded, filters={"brand_id": []}) == set()
    assert found(seeded, filters={"brand_id": "BITI"}) == set()  # keywords are exact
    assert found(seeded) == {f"s{i}" for i in range(1, 7)}


def test_ranges(seeded: DocumentStore) -> None:
    assert found(seeded, ranges={"score": (0.5, 0.8)}) == {"s2", "s4", "s5"}
    assert found(seeded, ranges={"score": (0.9, None)}) == {"s1"}
    assert found(seeded, ranges={"score": (None, 0.2)}) == {"s3"}
    assert found(seeded, ranges={"score": (None, None)}) == {f"s{i}" for i in range(1, 7)}
    # 08:00 at +07:00 is 01:00 UTC: the same moment however it is written.
    assert found(seeded, ranges={"scored_at": ("2024-03-01T01:00:00Z", None)}) == {"s1", "s2", "s3", "s4", "s6"}
    assert found(seeded, ranges={"scored_at": (None, "2024-03-01T08:00:00+07:00")}) == {"s1"}
    since = datetime(2024, 3, 4, tzinfo=UTC)
    assert found(seeded, ranges={"scored_at": (since, since + timedelta(days=1))}) == {"s4"}
    assert found(seeded, ranges={"score": (0.6, None)}, filters={"flagged": True}) == {"s1", "s2", "s4"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("giày", {"s1", "s3"}),
        ("giay", {"s1", "s3"}),
        ("GIÀY", {"s1", "s3"}),
        ("giay biti", {"s1"}),
        ("Giày   thể-thao!", {"s1"}),
        ("đồng hồ", {"s5"}),
        ("dong ho", {"s5"}),
        ("biti's", {"s1", "s2"}),
        ("sữa 1l", {"s4"}),
        ("giày vinamilk", set()),
        ("hunterx", set()),
        ("   ", {f"s{i}" for i in range(1, 7)}),  # an empty search box narrows nothing
        ("!!! ???", set()),  # text without a single word finds nothing
    ],
)
def test_text_search(seeded: DocumentStore, text: str, expected: set[str]) -> None:
    assert found(seeded, text=text) == expected


def test_text_with_filters(seeded: DocumentStore) -> None:
    assert found(seeded, text="biti", filters={"flagged": True, "brand_id": "biti"}) == {"s1", "s2"}
    assert found(seeded, text="giay", filters={"flagged": False}) == {"s3"}


def test_sort_with_id_tiebreak_and_missing_values_last(seeded: DocumentStore) -> None:
    desc = seeded.search("scored", Query(sort=[("score", "desc")], size=10))
    assert ids(desc) == ["s1", "s2", "s4", "s5", "s3", "s6"]
    asc = seeded.search("scored", Query(sort=[("score", "asc")], size=10))
    assert ids(asc) == ["s3", "s2", "s4", "s5", "s1", "s6"]
    two_keys = seeded.search("scored", Query(sort=[("score", "desc"), ("brand_id", "desc")], size=10))
    assert ids(two_keys) == ["s1", "s4", "s5", "s2", "s3", "s6"]
    by_title = seeded.search("scored", Query(sort=[("marketplace", "asc"), ("title", "asc")], size=10))
    assert ids(by_title) == ["s4", "s3", "s1", "s5", "s6", "s2"]  # raw text sorts by UTF-8 bytes
    assert ids(seeded.search("scored", Query(size=10))) == ["s1", "s2", "s3", "s4", "s5", "s6"]


def test_paging_and_totals(seeded: DocumentStore) -> None:
    full = ids(seeded.search("scored", Query(sort=[("score", "desc")], size=10)))
    pages: list[str] = []
    for offset in (0, 2, 4):
        page = seeded.search("scored", Query(sort=[("score", "desc")], size=2, offset=offset))
        assert page.total == 6
        pages.extend(ids(page))
    assert pages == full
    beyond = seeded.search("scored", Query(size=5, offset=50))
    assert beyond.docs == [] and beyond.total == 6
    empty = seeded.search("scored", Query(filters={"flagged": True}, size=0))
    assert empty.docs == [] and empty.total == 4
    assert seeded.count("scored") == 6
    assert seeded.count("scored", Query(filters={"brand_id": "biti"}, text="giay")) == 2
    at_limit = seeded.search("scored", Query(size=10, offset=MAX_WINDOW - 10))
    assert at_limit.total == 6
    with pytest.raises(ValueError, match="size \\+ offset"):
        seeded.search("scored", Query(size=20, offset=MAX_WINDOW - 10))


@pytest.mark.parametrize(
    "query",
    [
        Query(filters={"nope": 1}),
        Query(filters={"brand_id) OR 1=1 --": "x"}),
        Query(ranges={"body": (0, 1)}),
        Query(sort=[("'; DROP TABLE scored; --", "asc")]),
        Query(sort=[("score", "sideways")]),
        Query(filters={"score": "high"}),
        Query(filters={"flagged": "yes"}),
        Query(filters={"brand_id": None}),
        Query(ranges={"scored_at": ("yesterday", None)}),
        Query(ranges={"title": ("a", "b")}),
        Query(size=-1),
    ],
)
def test_bad_queries_are_refused_clearly(seeded: DocumentStore, query: Query) -> None:
    with pytest.raises(ValueError):
        seeded.search("scored", query)
    assert seeded.count("scored") == 6


def test_unknown_field_error_names_it(seeded: DocumentStore) -> None:
    with pytest.raises(ValueError, match="colour"):
        seeded.search("scored", Query(filters={"colour": "red"}))
    with pytest.raises(ValueError, match="unknown collection"):
        seeded.search("nope", Query())


def test_array_keyword_matches_by_membership(docs: DocumentStore) -> None:
    docs.bulk_write(
        "cases",
        [
            Write("c1", {"case_id": "c1", "state": "referred", "agencies": ["police-hp", "market-mgmt"]}),
            Write("c2", {"case_id": "c2", "state": "referred", "agencies": ["customs"]}),
            Write("c3", {"case_id": "c3", "state": "open", "agencies": []}),
        ],
    )
    docs.refresh("cases")

    def cases(**query: Any) -> set[str]:
        return set(ids(docs.search("cases", Query(size=10, **query))))

    assert cases(filters={"agencies": "customs"}) == {"c2"}
    assert cases(filters={"agencies": "market-mgmt"}) == {"c1"}
    assert cases(filters={"agencies": ["police-hp", "customs"]}) == {"c1", "c2"}
    assert cases(filters={"agencies": "customs", "state": "open"}) == set()
    assert cases(filters={"agencies": "nope"}) == set()
    with pytest.raises(ValueError):
        docs.search("cases", Query(sort=[("agencies", "asc")]))
    # Membership follows every write: a referral withdrawn, one added, a case deleted; counts agree with pages.
    docs.put("cases", "c1", {"case_id": "c1", "state": "referred", "agencies": ["market-mgmt"]})
    docs.put("cases", "c3", {"case_id": "c3", "state": "referred", "agencies": ["police-hp", "police-hp"]})
    docs.delete("cases", "c2")
    docs.refresh("cases")
    assert cases(filters={"agencies": "police-hp"}) == {"c3"}
    assert cases(filters={"agencies": ["market-mgmt", "customs"]}) == {"c1"}
    assert docs.count("cases", Query(filters={"agencies": "police-hp"})) == 1
    assert docs.count("cases", Query(filters={"agencies": ["police-hp", "market-mgmt"]}, count_up_to=5)) == 2


HOSTILE = [
    '"',
    "'",
    'giày" OR 1=1 --',
    "'; DROP TABLE scored; --",
    "NEAR(giay biti, 2)",
    "giay AND OR NOT",
    "title: giày",
    "listing.title:giay",
    "*",
    "giay*",
    "^giay",
    "(((",
    "{}[]<>\\/|&&||!",
    "\x00\x01\x1b[31m",
    "\u202egiày",
    "%_",
    "💥" * 50,
    "a" * 100_000,
    " ".join(["giày"] * 10_000),
    " ".join(f"w{i}" for i in range(500)),
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_gives_results_or_a_clear_error(seeded: DocumentStore, text: str) -> None:
    try:
        page = seeded.search("scored", Query(text=text, filters={"brand_id": text[:200]}))
        assert page.total == len(page.docs) == 0
        page = seeded.search("scored", Query(text=text))
        assert page.total == len(page.docs)
    except ValueError as exc:
        assert str(exc)
    assert seeded.count("scored") == 6
    assert found(seeded, text="giày") == {"s1", "s3"}


# The typed Store ----------------------------------------------------------------------------------


def test_brands_by_owner(store: Store) -> None:
    store.put_brand(brand("vinamilk", "vnm-jsc", "Vinamilk"))
    store.put_brand(brand("biti-hunter", "biti-jsc", "Biti's Hunter"))
    store.put_brand(brand("biti", "biti-jsc", "Biti's"))
    store.refresh()
    got = store.get_brand("biti")
    assert got is not None and (got.name, got.owner_id, got.owner_name) == ("Biti's", "biti-jsc", "Công ty Biti's")
    assert store.get_brand("nope") is None
    owned = store.list_brands(owner_id="biti-jsc")
    assert [b.brand_id for b in owned.items] == ["biti", "biti-hunter"] and owned.total == 2
    assert store.list_brands().total == 3


def test_upsert_listings_keeps_one_document_with_history(store: Store) -> None:
    first = listing(at=T0, price=350_000)
    again = listing(at=T0 + timedelta(days=1), price=199_000)
    (stored,) = store.upsert_listings([first])
    assert len(stored.history) == 1
    (stored,) = store.upsert_listings([again])
    assert [o.price for o in stored.history] == [350_000, 199_000]
    assert stored.listing.price == 199_000 and stored.first_seen_at == T0
    store.upsert_listings([again])  # the same capture replayed changes nothing
    store.upsert_listings([again, first])
    store.refresh()
    current = store.get_listing(first.key)
    assert current is not None and len(current.record.history) == 2
    page = store.search_listings(Query(filters={"key": first.key}))
    assert page.total == 1
    assert store.search_listings(Query(text="giay hunter")).total == 1


def test_concurrent_upserts_of_one_key_all_land(store: Store) -> None:
    store.upsert_listings([listing(at=T0)])
    workers = 4
    rounds = 3
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def crawl(worker: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=30)
                at = T0 + timedelta(hours=1 + r * workers + worker)
                store.upsert_listings([listing(at=at, price=100_000 + worker)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=crawl, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    current = store.get_listing(listing().key)
    assert current is not None
    assert len(current.record.history) == 1 + workers * rounds
    assert current.record.last_seen_at == T0 + timedelta(hours=workers * rounds)


def test_mark_removed(store: Store) -> None:
    item = listing()
    store.upsert_listings([item])
    removed = store.mark_removed(item.key, at=T0 + timedelta(days=2))
    assert removed is not None and removed.status == "removed"
    assert store.mark_removed(item.key) == removed  # already removed: unchanged
    assert store.mark_removed("shopee:missing") is None
    store.refresh()
    assert store.search_listings(Query(filters={"status": "removed"})).total == 1
    (back,) = store.upsert_listings([listing(at=T0 + timedelta(days=3))])
    assert back.status == "active" and back.removed_at is None


def test_review_queue_is_flagged_scores_of_a_brand_best_first(store: Store) -> None:
    store.put_scored(
        [
            scored(listing("1", title="Giày Biti's giả"), "biti", 0.6, True),
            scored(listing("2", title="Giày Biti's nhái"), "biti", 0.95, True),
            scored(listing("3", title="Dép Biti's"), "biti", 0.8, True),
            scored(listing("4", title="Giày Biti's chính hãng"), "biti", 0.1, False),
            scored(listing("5", title="Sữa Vinamilk"), "vinamilk", 0.99, True),
        ]
    )
    store.put_scored([scored(listing("1", title="Giày Biti's giả"), "biti", 0.7, True)])  # re-scored in place
    store.refresh()
    queue = store.flagged("biti")
    assert [s.score for s in queue.items] == [0.95, 0.8, 0.7] and queue.total == 3
    assert store.flagged().total == 4
    assert [s.listing.listing_id for s in store.flagged("biti", text="giay").items] == ["2", "1"]
    assert [s.score for s in store.flagged("biti", size=1, offset=1).items] == [0.8]
    got = store.get_scored("shopee:1", "biti")
    assert got is not None and got.score == 0.7


def test_open_case_creates_once(store: Store) -> None:
    case = Case.open_for("shopee:1", "biti", 0.9, actor="classifier")
    first, created = store.open_case(case)
    assert created
    again, created_again = store.open_case(Case.open_for("shopee:1", "biti", 0.5, actor="classifier"))
    assert not created_again
    assert again.version == first.version and again.record.score == 0.9
    store.refresh()
    assert store.search_cases(Query(filters={"brand_id": "biti"})).total == 1


def test_cases_by_id_are_there_at_once_without_a_refresh(store: Store) -> None:
    opened, _ = store.open_case(Case.open_for("shopee:2", "biti", 0.8, actor="classifier"))
    found = store.get_cases([opened.record.case_id, "case-missing"])
    assert list(found) == [opened.record.case_id]
    assert found[opened.record.case_id].version == opened.version


def test_two_inspectors_racing_exactly_one_wins(store: Store) -> None:
    opened, _ = store.open_case(Case.open_for("shopee:7", "biti", 0.9, actor="classifier"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def inspect(actor: str, to: CaseState) -> None:
        barrier.wait(timeout=30)
        try:
            store.save_case(opened.record.transition(to, actor=actor), opened.version)
            outcomes[actor] = "won"
        except ConflictError:
            outcomes[actor] = "conflict"

    threads = [
        threading.Thread(target=inspect, args=("inspector-a", CaseState.CONFIRMED)),
        threading.Thread(target=inspect, args=("inspector-b", CaseState.DISMISSED)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    winner = next(a for a, o in outcomes.items() if o == "won")
    current = store.get_case(opened.record.case_id)
    assert current is not None and current.record.history[-1].actor == winner
    with pytest.raises(ConflictError):
        store.save_case(opened.record.transition(CaseState.CONFIRMED, actor="late"), opened.version)


def test_api_keys_are_stored_hashed(store: Store) -> None:
    raw = "kcn_live_4f9b2c7e1d"
    store.put_api_key(raw, name="Công an tỉnh", role="agency", scopes=["cases:read"], owner_id=None)
    found_key = store.find_api_key(raw)
    assert found_key is not None and found_key.role == "agency" and found_key.scopes == ["cases:read"]
    assert store.find_api_key(raw + "x") is None
    assert store.docs.get("api_keys", raw) is None
    doc = store.docs.get("api_keys", found_key.key_hash)
    assert doc is not None and raw not in json.dumps(doc.body)


def test_closed_or_unreachable_store_is_unavailable(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "sqlite":
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("a file where a folder should be")
        broken = open_document_store(f"sqlite://{blocker / 'store.sqlite3'}", namespace=backend.namespace)
    else:
        broken = open_document_store("elasticsearch://127.0.0.1:1", namespace=backend.namespace)
    with pytest.raises(StoreUnavailable):
        broken.setup()
    with pytest.raises(StoreUnavailable):
        broken.get("brands", "b1")
    broken.close()
    never_set_up = open_document_store(backend.url, namespace=backend.namespace + "x")
    with pytest.raises(StoreUnavailable, match="setup"):
        never_set_up.get("brands", "b1")
    never_set_up.close()


def test_capped_counts_stop_at_the_cap_and_say_so(seeded: DocumentStore) -> None:
    """count_up_to bounds the work of a count; both backends report the cap and that more matched."""
    for text in (None, "giay"):
        full = seeded.search("scored", Query(text=text, sort=[("score", "desc")], size=10))
        capped = seeded.search("scored", Query(text=text, sort=[("score", "desc")], size=1, count_up_to=1))
        assert ids(capped) == ids(full)[:1]
        assert (capped.total, capped.total_capped) == (1, full.total > 1)
        roomy = seeded.search("scored", Query(text=text, sort=[("score", "desc")], size=2, offset=1, count_up_to=50))
        assert (roomy.total, roomy.total_capped) == (full.total, False) and ids(roomy) == ids(full)[1:3]
    assert seeded.count("scored", Query(count_up_to=2)) == 2
    with pytest.raises(ValueError, match="count_up_to"):
        seeded.search("scored", Query(count_up_to=0))


# A collection of the test's own: a store that is set up creates what it is told of later (see `know`).
DATED = Collection(
    "dated", {"username": searchable("username", Kind.KEYWORD), "expires_at": searchable("expires_at", Kind.DATE)}
)


def test_dates_compare_truncated_to_the_millisecond(docs: DocumentStore) -> None:
    """12.1236 s is stored as 12.123 s, as checked.date_value and Elasticsearch read it, never rounded up."""
    docs.know([DATED])
    docs.put("dated", "s1", {"username": "a", "expires_at": "2024-05-01T09:00:12.1236Z"})
    docs.put("dated", "s2", {"username": "b", "expires_at": "2024-12-31T23:59:59.9996+00:00"})
    docs.refresh("dated")
    at = docs.search("dated", Query(ranges={"expires_at": (None, "2024-05-01T09:00:12.123Z")}))
    assert ids(at) == ["s1"]
    last_ms = "2024-12-31T23:59:59.999Z"
    year_end = docs.search("dated", Query(ranges={"expires_at": (last_ms, last_ms)}))
    assert ids(year_end) == ["s2"]


def test_a_collection_is_served_only_once_known(docs: DocumentStore) -> None:
    other = Collection("other_dated", DATED.fields)
    with pytest.raises(ValueError, match="unknown collection 'other_dated'"):
        docs.get("other_dated", "s1")
    docs.know([other])
    docs.put("other_dated", "s1", {"username": "a", "expires_at": "2024-05-01T09:00:00Z"})
    docs.refresh("other_dated")
    assert ids(docs.search("other_dated", Query(filters={"username": "a"}))) == ["s1"]
    assert other in docs.collections


# Text search over many rows: every way a backend may plan it gives the page and capped count the data implies.
SEARCH_WORDS = ["giày", "sữa", "fake", "nhái", "chính", "hãng", "đồng", "hồ", "áo", "khoác", "rẻ", "kho"]


def search_rows(n: int = 400) -> list[tuple[str, dict[str, Any]]]:
    """Deterministic scored documents: common and rare words, two brands, three marketplaces, tied scores."""
    import random

    rng = random.Random(11)
    rows = []
    for i in range(n):
        picked = rng.sample(SEARCH_WORDS[:6], 3) + (["hiếm"] if i % 97 == 0 else [])
        body = {
            "brand_id": "biti" if i % 3 else "vinamilk",
            "flagged": i % 5 != 0,
            "score": round(rng.random(), 1),
            "review_status": "new" if i % 4 else "confirmed",
            "listing": {"title": " ".join(picked) + f" mẫu {i}", "marketplace": ("shopee", "tiki", "lazada")[i % 3]},
        }
        rows.append((f"t{i:04d}", body))
    return rows


SEARCHES: list[dict[str, Any]] = [
    {"filters": {"flagged": True, "brand_id": "biti"}, "text": "giày"},
    {"filters": {"flagged": True, "brand_id": "biti"}, "text": "Giay fake"},
    {"filters": {"flagged": True, "review_status": "new"}, "text": "sữa"},
    {"filters": {"flagged": True}, "text": "hiếm"},
    {"filters": {"flagged": True, "marketplace": "tiki"}, "text": "nhái hãng"},
    {"filters": {"flagged": True}, "text": "không có"},
]


def expected_search(rows: list[tuple[str, dict[str, Any]]], search: dict[str, Any], cap: int, offset: int, size: int):
    from kcnguard.store.words import words

    wanted = set(words(search["text"]))
    hits = [
        (i, b)
        for i, b in rows
        if all(b.get(k) == v or b["listing"].get(k) == v for k, v in search["filters"].items())
        and wanted <= set(words(b["listing"]["title"]))
    ]
    hits.sort(key=lambda ib: (-ib[1]["score"], ib[0]))
    return [i for i, _ in hits[offset : offset + size]], min(len(hits), cap), len(hits) > cap


def check_searches(docs: DocumentStore, rows: list[tuple[str, dict[str, Any]]]) -> None:
    for search in SEARCHES:
        for cap, offset in ((5, 0), (5, 10), (40, 0), (1000, 20)):
            query = Query(sort=[("score", "desc")], size=7, offset=offset, count_up_to=cap, **search)
            page = docs.search("scored", query)
            assert (ids(page), page.total, page.total_capped) == expected_search(rows, search, cap, offset, 7), (
                search,
                cap,
                offset,
            )


def test_text_search_pages_and_capped_counts_match_the_data(docs: DocumentStore) -> None:
    rows = search_rows()
    assert all(r.ok for r in docs.bulk_write("scored", [Write(i, b) for i, b in rows]))
    docs.refresh("scored")
    check_searches(docs, rows)
