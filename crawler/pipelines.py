"""Item pipelines: validate listings and publish them; publish quarantined pages. Marketplace-blind."""

from __future__ import annotations

import logging
from typing import Any, Self

from pydantic import ValidationError

from crawler.items import PageListings
from crawler.sink import ItemSink, sink_of
from kcnguard.records import DeadLetter, Listing
from kcnguard.validation import problem_text

log = logging.getLogger(__name__)


class _SinkPipeline:
    """A pipeline writing to its crawl's sink (found on the crawler) and counting in its stats."""

    def __init__(self, sink: ItemSink, stats: Any) -> None:
        self.sink, self.stats = sink, stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(sink_of(crawler), crawler.stats)

    def _quarantine(self, letter: DeadLetter, what: str) -> None:
        self.sink.dead_letter(letter)
        self.stats.inc_value("kcnguard/quarantined")
        log.warning("%s %s quarantined: %s", what, letter.url, letter.reason)


class ListingPipeline(_SinkPipeline):
    """Re-validates each Listing (a spider may have copied it without validation) and publishes it.

    An invalid listing is not dropped: it is turned into a DeadLetter for the next pipeline.
    """

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageListings):
            # Each listing of the page on its own: a bad one is quarantined here, the rest go on.
            kept: list[Listing] = []
            for listing in item.listings:
                checked = self._publish(listing)
                if isinstance(checked, DeadLetter):
                    self._quarantine(checked, "listing from")
                else:
                    kept.append(checked)
            return PageListings(item.url, kept)
        if not isinstance(item, Listing):
            return item
        return self._publish(item)

    def _publish(self, item: Listing) -> Listing | DeadLetter:
        try:
            listing = Listing.model_validate(item.model_dump())
        except ValidationError as exc:
            problems = problem_text(exc, limit=5)
            return DeadLetter.of(
                item.model_dump_json().encode(),
                f"invalid listing: {problems}",
                source="crawl",
                url=item.url,
                evidence_digest=item.evidence_digest,
                key=item.crawl_job_id,
                worker="crawler/pipeline",
            )
        self.sink.listing(listing)
        self.stats.inc_value("kcnguard/listings")
        log.debug("listing %s published for job %s", listing.key, listing.crawl_job_id)
        return listing


class DeadLetterPipeline(_SinkPipeline):
    """Publishes quarantined pages with their reason, and quarantines anything a spider should not yield."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Listing | PageListings):
            return item
        letter = (
            item
            if isinstance(item, DeadLetter)
            else DeadLetter.of(
                repr(item).encode(), f"a spider yielded a {type(item).__name__}, not a Listing", source="crawl"
            )
        )
        self._quarantine(letter, "page")
        return letter
