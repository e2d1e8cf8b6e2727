"""Where the item pipelines hand finished items: the bus, counted per crawl job."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from kcnguard.bus import Bus
from kcnguard.errors import TransientError
from kcnguard.records import DeadLetter, Listing
from kcnguard.topics import DEAD_LETTER, RAW_LISTINGS

log = logging.getLogger(__name__)

# The crawler attribute the service sets so pipelines find the sink of the crawl they serve.
_ATTR = "kcnguard_sink"


class ItemSink(Protocol):
    def listing(self, listing: Listing) -> None: ...

    def dead_letter(self, letter: DeadLetter) -> None: ...


@dataclass
class BusSink:
    """Publishes to the bus; a bus failure is remembered so the job is not committed, never swallowed."""

    bus: Bus
    listings: int = 0
    quarantined: int = 0
    error: TransientError | None = None

    def listing(self, listing: Listing) -> None:
        self._publish(lambda: self.bus.publish_records(RAW_LISTINGS, [listing], keys=[listing.key]))
        self.listings += 1

    def dead_letter(self, letter: DeadLetter) -> None:
        self._publish(lambda: self.bus.publish_records(DEAD_LETTER, [letter], keys=[letter.url or letter.key]))
        self.quarantined += 1

    def _publish(self, send: Any) -> None:
        try:
            send()
        except TransientError as exc:
            self.error = self.error or exc
            raise


def attach_sink(crawler: Any, sink: ItemSink) -> None:
    # Crawler settings are deep-copied, so a live bus connection cannot travel in them.
    setattr(crawler, _ATTR, sink)


def sink_of(crawler: Any) -> ItemSink:
    sink = getattr(crawler, _ATTR, None)
    if sink is None:
        raise RuntimeError("this crawler has no item sink: run spiders through crawler.service, which attaches one")
    return sink
