"""The records: validation that refuses bad input clearly, keys, history and the case state machine."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from kcnguard.records import (
    Brand,
    Case,
    CaseState,
    CrawlJob,
    DeadLetter,
    InvalidTransition,
    Listing,
    StoredListing,
)
from kcnguard.records.deadletter import MAX_RAW_BYTES
from kcnguard.records.listing import MAX_HISTORY

DIGEST = hashlib.sha256(b"page").hexdigest()
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def listing(**changes: object) -> Listing:
    base: dict[str, object] = {
        "marketplace": "demo",
        "listing_id": "sp-1",
        "url": "http://127.0.0.1:8800/product/sp-1",
        "title": "Giày VinaStep chính hãng",
        "price": 1_200_000,
        "evidence_digest": DIGEST,
        "captured_at": T0,
    }
    base.update(changes)
    return Listing.model_validate(base)


def test_listing_key_comes_from_marketplace_and_its_id() -> None:
    assert listing().key == "demo:sp-1"


def test_text_is_nfc_and_stripped_of_control_characters() -> None:
    decomposed = "Gia\u0300y \x1b[31mVinaStep\u202e"
    title = listing(title=decomposed).title
    assert title == "Giày [31mVinaStep"
    assert "\x1b" not in title and "\u202e" not in title


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "javascript:alert(1)"),
        ("price", -1),
        ("price", "mười nghìn"),
        ("currency", "dong"),
        ("evidence_digest", "not-a-digest"),
        ("listing_id", "a/b"),
        ("title", ""),
        ("title", "x" * 1001),
        ("marketplace", "Demo Market"),
        ("rating", 7),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as err:
        listing(**{field: value})
    assert field in str(err.value)


def test_unknown_keys_are_refused_not_carried() -> None:
    with pytest.raises(ValidationError, match="surprise"):
        listing(surprise=1)


def test_naive_capture_time_is_taken_as_utc() -> None:
    assert listing(captured_at=datetime(2026, 1, 1, 0, 0)).captured_at.tzinfo is UTC


def test_recrawl_appends_history_and_replay_changes_nothing() -> None:
    stored = StoredListing.first(listing())
    later = listing(price=990_000, sold_count=40, captured_at=T0 + timedelta(days=1), evidence_digest="b" * 64)
    again = stored.seen_again(later)
    assert [o.price for o in again.history] == [1_200_000, 990_000]
    assert again.listing.price == 990_000
    assert again.seen_again(later) == again
    # An older capture arriving late joins the history but does not replace the newest.
    late = listing(price=1_500_000, captured_at=T0 - timedelta(days=1), evidence_digest="c" * 64)
    merged = again.seen_again(late)
    assert merged.listing.price == 990_000
    assert merged.first_seen_at == T0 - timedelta(days=1)
    assert [o.price for o in merged.history] == [1_500_000, 1_200_000, 990_000]


def test_history_is_bounded() -> None:
    stored = StoredListing.first(listing())
    for day in range(1, MAX_HISTORY + 10):
        stored = stored.seen_again(
            listing(
                captured_at=T0 + timedelta(hours=day), evidence_digest=hashlib.sha256(str(day).encode()).hexdigest()
            )
        )
    assert len(stored.history) == MAX_HISTORY


def test_a_removed_listing_seen_again_is_active() -> None:
    stored = StoredListing.first(listing()).model_copy(update={"status": "removed", "removed_at": T0})
    back = stored.seen_again(listing(captured_at=T0 + timedelta(days=2), evidence_digest="d" * 64))
    assert back.status == "active" and back.removed_at is None


def test_case_walks_the_state_machine_and_keeps_every_step() -> None:
    case = Case.open_for("demo:sp-1", "vinastep", 0.93, actor="classifier")
    case = case.transition(CaseState.CONFIRMED, "inspector-a", "giá quá thấp")
    case = case.transition(CaseState.REFERRED, "inspector-a")
    assert [t.to_state for t in case.history] == ["open", "confirmed", "referred"]
    with pytest.raises(InvalidTransition):
        case.transition(CaseState.CLOSED, "inspector-b")


def test_ids_are_deterministic_so_replays_are_idempotent() -> None:
    assert Case.make_id("demo:1", "b") == Case.make_id("demo:1", "b") != Case.make_id("demo:1", "c")
    assert CrawlJob.make_id("b", "demo", "Giày", "2026-11-28T06") == CrawlJob.make_id(
        "b", "demo", "giày", "2026-11-28T06"
    )


def test_brand_validates_trademarks_and_sellers() -> None:
    with pytest.raises(ValidationError, match="Nice classes"):
        Brand(
            brand_id="b", owner_id="o", owner_name="O", name="B", trademarks=[{"number": "4-1", "nice_classes": [46]}]
        )
    with pytest.raises(ValidationError, match="seller_id or a seller_name"):
        Brand(brand_id="b", owner_id="o", owner_name="O", name="B", official_sellers=[{"marketplace": "demo"}])
    brand = Brand(
        brand_id="b",
        owner_id="o",
        owner_name="O",
        name="VinaStep",
        aliases=["vinastep", "Vina Step"],
        official_sellers=[{"marketplace": "demo", "seller_name": "VinaStep Official"}],
        products=[{"name": "A", "reference_price_vnd": 900_000}, {"name": "B", "reference_price_vnd": 500_000}],
    )
    assert brand.names == ["VinaStep", "Vina Step"]
    assert brand.min_reference_price_vnd == 500_000
    assert brand.is_official_seller("demo", None, "vinastep official")
    assert not brand.is_official_seller("shopee", None, "VinaStep Official")


def test_dead_letter_keeps_reason_and_raw_bytes_within_a_bound() -> None:
    raw = b"\xff{not json" * 200_000
    letter = DeadLetter.of(raw, "not JSON", source="listings-raw", offset=7)
    assert letter.raw_size == len(raw)
    assert letter.raw == raw[: len(letter.raw)] and len(letter.raw) == MAX_RAW_BYTES


def test_a_record_from_a_newer_schema_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValidationError, match="upgrade the service"):
        listing(schema_version=2)
    assert listing(schema_version=1).schema_version == 1


def test_referral_flow_acknowledge_and_actions() -> None:
    from kcnguard.records import ActionKind, Case, CaseState, InvalidTransition, PartnerAction

    case = Case.open_for("tiki:1", "vinastep", 0.9, actor="classifier")
    with pytest.raises(InvalidTransition):
        case.refer(["police-hp"], actor="inspector:an")  # must be confirmed first
    case = case.transition(CaseState.CONFIRMED, "inspector:an").refer(["police-hp", "qltt-hp"], "inspector:an")
    assert case.state is CaseState.REFERRED and case.agencies == ["police-hp", "qltt-hp"]
    with pytest.raises(InvalidTransition):
        case.refer(["police-hp"], "inspector:an")
    with pytest.raises(InvalidTransition):
        case.acknowledge("customs", "partner:customs")
    acked = case.acknowledge("police-hp", "partner:police-hp")
    assert acked.state is CaseState.ACKNOWLEDGED
    assert acked.acknowledge("police-hp", "partner:police-hp") is acked  # idempotent
    action = PartnerAction(kind=ActionKind.REMOVED, document_number="12/QĐ-XPHC", actor="partner:qltt-hp")
    done = acked.report_action("qltt-hp", action)
    assert done.state is CaseState.ACTIONED
    assert done.referral("qltt-hp").acknowledged_at is not None
    assert done.referral("qltt-hp").actions[0].document_number == "12/QĐ-XPHC"
    assert done.referral("police-hp").actions == []
    later = done.refer(["customs"], "inspector:an")
    assert later.state is CaseState.ACTIONED and later.agencies[-1] == "customs"
