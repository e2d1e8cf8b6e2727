"""Id limits count UTF-8 bytes, as the stores do: a long Vietnamese or emoji id is refused before any write."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from classifier.model import TrainedModel
from classifier.service import build_handler
from kcnguard.records import Case, CrawlJob, Listing, scored_key
from kcnguard.records.base import MAX_RECORD_ID_BYTES
from kcnguard.records.listing import MAX_LISTING_ID_BYTES, MAX_LISTING_KEY_BYTES
from kcnguard.settings import Settings
from kcnguard.store import Query
from kcnguard.store.checked import MAX_ID_BYTES, id_problem
from kcnguard.topics import DEAD_LETTER, RAW_LISTINGS
from tests.unit.test_classifier_service import run_worker

# 126 characters, 504 bytes: under any character limit, over every byte limit once a brand id is appended.
pytest_plugins = ["tests.unit.test_classifier_service"]

EMOJI_ID = "🦁" * 126
# "ệ" is three bytes in NFC: 100 of them are 300 bytes.
VIETNAMESE_ID = "ệ" * 100


def listing(listing_id: str, title: str = "Giày Lotus Step Runner rep 1:1 full box") -> dict[str, object]:
    return {
        "marketplace": "shopee",
        "listing_id": listing_id,
        "url": "https://shopee.vn/i/x",
        "title": title,
        "price": 150_000,
        "evidence_digest": hashlib.sha256(listing_id.encode()).hexdigest(),
    }


@pytest.mark.parametrize("listing_id", [EMOJI_ID, VIETNAMESE_ID])
def test_a_listing_id_over_the_byte_limit_is_refused_at_validation(listing_id: str) -> None:
    assert len(listing_id) <= 128 < len(listing_id.encode())
    with pytest.raises(ValidationError, match="bytes long"):
        Listing.model_validate(listing(listing_id))


def test_the_longest_accepted_ids_fit_every_store_id() -> None:
    # 85 three-byte characters and one byte: exactly the limit.
    longest = "ệ" * 85 + "a"
    assert len(longest.encode()) == MAX_LISTING_ID_BYTES
    accepted = Listing.model_validate({**listing(longest), "marketplace": "m" * 64})
    assert len(accepted.key.encode()) == MAX_LISTING_KEY_BYTES
    brand = "b" * 64
    assert id_problem(scored_key(accepted.key, brand)) is None
    assert len(scored_key(accepted.key, brand).encode()) <= MAX_ID_BYTES
    case = Case.open_for(accepted.key, brand, 0.9, actor="classifier")
    assert id_problem(case.case_id) is None


def test_record_ids_count_bytes() -> None:
    job_id = "việc-" + "ệ" * 60  # 65 characters, 185 bytes
    assert len(job_id) < MAX_RECORD_ID_BYTES < len(job_id.encode())
    with pytest.raises(ValidationError, match="bytes long"):
        CrawlJob.model_validate({"job_id": job_id, "marketplace": "shopee", "query": "Lotus Step"})
    with pytest.raises(ValidationError, match="bytes long"):
        Listing.model_validate({**listing("1"), "crawl_job_id": job_id})
    case = Case.open_for("shopee:1", "lotus-step", 0.9, actor="classifier")
    with pytest.raises(ValidationError, match="bytes long"):
        Case.model_validate({**case.to_doc(), "listing_key": "shopee:" + EMOJI_ID})
    with pytest.raises(ValidationError, match="bytes long"):
        Case.model_validate({**case.to_doc(), "case_id": job_id})


def test_an_over_long_id_is_dead_lettered_with_its_reason_and_leaves_nothing(
    env, tmp_path: Path, trained: TrainedModel
) -> None:
    bus, store = env
    good = Listing.model_validate(listing("ok-1"))
    bus.publish_records(RAW_LISTINGS, [good])
    bus.publish(RAW_LISTINGS, json.dumps(listing(EMOJI_ID)).encode())
    bus.flush()
    worker = run_worker(bus, build_handler(store, bus, Settings(data_dir=tmp_path / "data"), trained), 2)
    assert worker.stats.handled == 1 and worker.stats.dead_lettered == 1
    with bus.subscribe("t-dead", [DEAD_LETTER]) as consumer:
        letters = [json.loads(m.value) for m in consumer.poll(10, 0.5)]
    assert len(letters) == 1 and "bytes long" in letters[0]["reason"]
    store.refresh()
    assert [c.listing_key for c in store.search_cases(Query(size=50)).items] == [good.key]
    assert [s.listing.key for s in store.search_scored(Query(size=50)).items] == [good.key]
    assert store.get_listing("shopee:" + EMOJI_ID) is None


def test_the_handler_checks_every_id_before_its_first_write() -> None:
    """Ids the records cannot catch (a store-side limit) still fail before anything is written."""
    from classifier.service import _check_ids

    with pytest.raises(ValueError, match="512 bytes"):
        _check_ids(["shopee:1", "x" * 600])
    _check_ids(["shopee:1", "shopee:" + "ệ" * 85 + "a|" + "b" * 64])
