"""Where the item pipelines hand finished items: the bus, counted per crawl job."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
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

    def drain(self) -> None: ...


@dataclass
class BusSink:
    """Publishes to the bus in batches; a bus failure is remembered so the job is not committed, never swallowed.

    One bus write per listing costs a transaction each on the embedded bus (a commit to disk),
    which made publishing the crawler's bottleneck; records wait here until `batch` are due or
    the crawl ends, and the service calls `drain()` before it flushes the bus and commits.
    """

    bus: Bus
    batch: int = 200
    listings: int = 0
    quarantined: int = 0
    error: TransientError | None = None
    _listings: list[Listing] = field(default_factory=list)
    _letters: list[DeadLetter] = field(default_factory=list)

    def listing(self, listing: Listing) -> None:
        self._listings.append(listing)
        self.listings += 1
        if len(self._listings) >= self.batch:
            self.drain()

    def dead_letter(self, letter: DeadLetter) -> None:
        self._letters.append(letter)
        self.quarantined += 1
        if len(self._letters) >= self.batch:
            self.drain()

    def drain(self) -> None:
        """Hand every waiting record to the bus (durable after the bus's flush)."""
        listings, letters = self._listings, self._letters
        self._listings, self._letters = [], []
        if listings:
            self._publish(lambda: self.bus.publish_records(RAW_LISTINGS, listings, keys=[x.key for x in listings]))
        if letters:
            self._publish(
                lambda: self.bus.publish_records(DEAD_LETTER, letters, keys=[x.url or x.key for x in letters])
            )

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
