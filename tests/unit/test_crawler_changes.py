"""Change tracking: price history over real re-crawls, gone listings, re-check jobs, and safe commits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.changes import Removal, apply_removals, recheck_jobs, removal_reason
from crawler.offsets import OffsetTracker
from crawler.outcome import CrawlOutcome
from crawler.pages import tiki
from kcnguard.bus import Message
from kcnguard.records import Listing, ScoredListing, Seller
from kcnguard.store import Store, open_store

DAY = datetime(2021, 9, 22, 6, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite://{tmp_path}/store.sqlite3", namespace="t", data_dir=tmp_path)
    opened.setup()
    yield opened
    opened.close()


def _listing(listing_id: str, marketplace: str = "shopee", price: float = 100.0) -> Listing:
    return Listing(
        marketplace=marketplace,
        listing_id=listing_id,
        url=f"https://{marketplace}.vn/p/{listing_id}",
        title=f"Giày {listing_id}",
        price=price,
        seller=Seller(id="s1"),
        evidence_digest="a" * 64,
        captured_at=DAY,
    )


@pytest.mark.parametrize(
    ("status", "body", "found", "words"),
    [
        (404, b"<html>Not found</html>", None, "HTTP 404"),
        (410, b"", None, "HTTP 410"),
        (200, b'{"error": {"code": 404, "message": "Product not found"}}', None, "not found"),
        (200, b'{"error": 4, "error_msg": null, "data": null}', None, "error 4"),
        (200, b'{"status": 404, "data": null, "message": "not exist"}', None, "not found"),
        (
            200,
            b'{"data": null, "message": "S\xe1\xba\xa3n ph\xe1\xba\xa9m kh\xc3\xb4ng t\xe1\xbb\x93n t\xe1\xba\xa1i"}',
            None,
            "không tồn tại",
        ),
        (200, b'{"data": [{"id": 9}]}', ["9"], "no longer holds it"),
    ],
)
def test_gone_answers_are_removals(status: int, body: bytes, found: list[str] | None, words: str) -> None:
    reason = removal_reason(status, body, "7", found)
    assert reason is not None and words in reason


@pytest.mark.parametrize(
    ("status", "body", "found"),
    [
        (200, b'{"data": {"itemid": 7}}', ["7"]),
        # A parse failure without a "not found" sign is unsure: never a removal.
        (200, b"<html>maintenance</html>", None),
        (500, b'{"error": "internal"}', None),
        (200, b'{"error": null, "data": null}', None),
    ],
)
def test_present_or_unsure_answers_are_not_removals(status: int, body: bytes, found: list[str] | None) -> None:
    assert removal_reason(status, body, "7", found) is None


def test_price_history_accumulates_over_real_daily_recrawls(shared_data: Path, store: Store) -> None:
    """The same Zinus store items on Tiki on three days (2021-09-22/27/28): one listing, three sightings each."""
    folder = shared_data / "tiki/seller-store-items"
    days = sorted(folder.glob("tiki__zinus-official-store__*.json"))
    assert len(days) == 3
    for path in days:
        body = path.read_bytes()
        captured = datetime.fromisoformat(json.loads(body)[0]["_batched_at"]).replace(tzinfo=UTC)
        store.upsert_listings(
            tiki.parse(body, "https://tiki.vn/api/v2/products?q=zinus", captured_at=captured).listings
        )
    stored = store.get_listing("tiki:74036862")
    assert stored is not None
    history = stored.record.history
    assert [o.captured_at.date().isoformat() for o in history] == ["2021-09-22", "2021-09-27", "2021-09-28"]
    assert len({o.price for o in history}) >= 2, "Zinus changed this item's price between the 22nd and the 27th"
    assert stored.record.status == "active" and len({o.evidence_digest for o in history}) == 3
    # Re-delivering a day changes nothing.
    store.upsert_listings(
        tiki.parse(days[0].read_bytes(), "https://tiki.vn/x", captured_at=history[0].captured_at).listings
    )
    again = store.get_listing("tiki:74036862")
    assert again is not None and len(again.record.history) == 3


def test_recheck_jobs_cover_the_brand_s_active_flagged_listings(store: Store) -> None:
    listings = [_listing("1.10"), _listing("1.11"), _listing("1.12"), _listing("99", marketplace="lazada")]
    store.upsert_listings(listings)

    def scored(listing: Listing, brand: str, flagged: bool) -> ScoredListing:
        return ScoredListing(
            listing=listing,
            brand_id=brand,
            score=0.9 if flagged else 0.1,
            flagged=flagged,
            threshold=0.5,
            model_version="t",
        )

    store.put_scored(
        [
            scored(listings[0], "zinus", True),
            scored(listings[1], "zinus", False),
            scored(listings[2], "zinus", True),
            scored(listings[3], "zinus", True),
            scored(listings[0], "other", True),
        ]
    )
    store.refresh()
    store.mark_removed("shopee:1.12", DAY)
    now = DAY + timedelta(days=3)
    jobs = recheck_jobs(store, ["shopee", "tiki"], brand_id="zinus", now=now)
    assert [(j.marketplace, j.query, j.reason, j.max_pages) for j in jobs] == [("shopee", "1.10", "recheck", 1)]
    assert jobs[0].job_id == recheck_jobs(store, ["shopee"], brand_id="zinus", now=now)[0].job_id
    everything = recheck_jobs(store, ["shopee", "lazada"], brand_id="zinus", flagged_only=False, now=now)
    assert sorted(j.query for j in everything) == ["1.10", "1.11", "99"]


def test_removals_are_applied_with_the_time_seen(store: Store) -> None:
    store.upsert_listings([_listing("1.10")])
    seen = DAY + timedelta(days=5)
    marked = apply_removals(store, [Removal("shopee:1.10", seen, "HTTP 404"), Removal("shopee:nope", seen, "HTTP 404")])
    assert marked == 1
    stored = store.get_listing("shopee:1.10")
    assert stored is not None and stored.record.status == "removed" and stored.record.removed_at == seen


def _message(partition: int, offset: int) -> Message:
    return Message(topic="crawl-jobs", partition=partition, offset=offset, value=b"")


def test_offsets_are_committed_only_past_finished_jobs() -> None:
    tracker = OffsetTracker()
    first, second, third, other = _message(0, 5), _message(0, 6), _message(0, 7), _message(1, 2)
    for message in (first, second, third, other):
        tracker.started(message)
    tracker.finished(second)
    tracker.finished(other)
    assert tracker.committable() == [other]  # 0/6 waits for 0/5, still crawling
    tracker.finished(first)
    assert tracker.committable() == [second]
    tracker.finished(third)
    assert tracker.committable() == [third] and tracker.committable() == []


def test_recheck_command_sends_the_jobs(isolated_settings, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from kcnguard.bus import open_bus
    from kcnguard.records import CrawlJob
    from kcnguard.settings import get_settings
    from kcnguard.topics import CRAWL_JOBS
    from launcher.cli import main

    monkeypatch.setenv("KCNGUARD_CRAWL_MARKETPLACES", "shopee,tiki")
    get_settings.cache_clear()
    store = open_store()
    store.setup()
    listing = _listing("1.10")
    store.upsert_listings([listing])
    store.put_scored(
        [ScoredListing(listing=listing, brand_id="zinus", score=0.9, flagged=True, threshold=0.5, model_version="t")]
    )
    store.refresh()
    store.close()
    assert main(["recheck", "--brand", "zinus"]) == 0
    assert capsys.readouterr().out.startswith("1 ")
    with open_bus() as bus, bus.subscribe("t-recheck", [CRAWL_JOBS]) as consumer:
        [message] = consumer.poll(10, 2.0)
    job = CrawlJob.model_validate_json(message.value)
    assert (job.marketplace, job.query, job.reason, job.brand_id) == ("shopee", "1.10", "recheck", "zinus")


def test_run_outcome_is_blocked_never_done_with_nothing() -> None:
    reason = "shopee: captcha page at https://shopee.vn/search?keyword=x"
    assert CrawlOutcome("shopee", blocks=[reason]).verdict() == ("blocked", reason)
    assert CrawlOutcome("shopee", pages=2, blocks=[reason]).verdict() == ("blocked", f"{reason} (after 2 pages read)")
    forbidden = CrawlOutcome("shopee", robots_forbidden=1)
    assert forbidden.blocked and forbidden.verdict() == ("blocked", "shopee: robots.txt forbids the search page")
    refused = CrawlOutcome("shopee", blocked_statuses=[429])
    assert refused.verdict() == ("blocked", "shopee: HTTP 429 from the marketplace")
    assert CrawlOutcome("shopee", pages=1, blocked_statuses=[429]).verdict()[0] == "done"
    assert CrawlOutcome("shopee", finish_reason="finished").verdict()[0] == "failed"
    status, why = CrawlOutcome(
        "shopee",
        pages=5,
        finish_reason="closespider_timeout",
        removals=[Removal("shopee:1.2", DAY, "HTTP 404 not found")],
    ).verdict()
    assert status == "done" and "shopee:1.2 gone: HTTP 404" in (why or "") and "time limit after 5 pages" in (why or "")
    assert CrawlOutcome("shopee", pages=3).verdict() == ("done", None)


def test_a_job_finishing_after_the_consumer_was_dropped_is_ignored() -> None:
    tracker = OffsetTracker()
    tracker.started(_message(0, 1))
    tracker.clear()  # the consumer was dropped: its jobs come back from the last commit
    tracker.finished(_message(0, 1))
    assert tracker.committable() == []
