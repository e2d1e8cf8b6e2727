"""The classifier service: raw listings in; stored listings, scores, cases and case events out.

Every step is idempotent, so a re-delivered batch changes nothing: listings merge by key
(history kept), scores are keyed by listing and brand, a case is created only if absent,
and its "opened" event is published again while the case is still untouched: a crash between
creating the case and flushing the event would otherwise lose the event for good. The event id
is fixed per case, so a consumer drops the repeats.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from classifier.model import TrainedModel, load_or_train
from classifier.scoring import Scorer
from kcnguard.backoff import Backoff
from kcnguard.bus import Bus, open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.errors import TransientError
from kcnguard.records import Brand, Case, CaseEvent, CaseState, Listing, Record, ScoredListing
from kcnguard.settings import Settings
from kcnguard.store import Store, open_store
from kcnguard.topics import CASE_EVENTS, RAW_LISTINGS, SCORED_LISTINGS

log = logging.getLogger(__name__)

GROUP = "classifier"
ACTOR = "classifier"
# Newly registered brands are picked up within this many seconds.
BRAND_TTL_SECONDS = 30.0
BRAND_PAGE = 1000


class BrandRegistry:
    """The registered brands, re-read from the store at most every `ttl` seconds."""

    def __init__(
        self, store: Store, ttl: float = BRAND_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store, self.ttl, self.clock = store, ttl, clock
        self._brands: list[Brand] | None = None
        self._read_at = 0.0

    def brands(self) -> list[Brand]:
        if self._brands is None or self.clock() - self._read_at >= self.ttl:
            self._brands = self._read_all()
            self._read_at = self.clock()
        return self._brands

    def _read_all(self) -> list[Brand]:
        brands: list[Brand] = []
        while True:
            page = self.store.list_brands(size=BRAND_PAGE, offset=len(brands))
            brands.extend(page.items)
            if not page.items or len(brands) >= page.total:
                return brands


class ClassifierHandler:
    """Handles one batch of raw listings; build with `build_handler`."""

    def __init__(self, store: Store, bus: Bus, settings: Settings, model: TrainedModel) -> None:
        self.store, self.bus, self.settings, self.model = store, bus, settings, model
        self.registry = BrandRegistry(store)
        self._scorer: Scorer | None = None
        self._scorer_key: tuple[tuple[str, str], ...] = ()

    def scorer(self) -> Scorer:
        brands = self.registry.brands()
        key = tuple(sorted((b.brand_id, b.updated_at.isoformat()) for b in brands))
        # Compiling the brand patterns is the costly part; redo it only when the brands changed.
        if self._scorer is None or key != self._scorer_key:
            self._scorer = Scorer(brands, self.model, self.settings.flag_threshold)
            self._scorer_key = key
            log.info("classifier: scoring against %d brands with model %s", len(brands), self.model.version)
        return self._scorer

    def __call__(self, records: Sequence[Record]) -> None:
        listings = [r for r in records if isinstance(r, Listing)]
        if len(listings) != len(records):
            wrong = next(type(r).__name__ for r in records if not isinstance(r, Listing))
            raise TypeError(f"the classifier handles Listing records, not {wrong}")
        if not listings:
            return
        self.store.upsert_listings(listings)
        scored = self.scorer().score_many(listings)
        # Cases before scores: whoever can see a flagged score can then also find its case.
        events = self._open_cases([s for s in scored if s.flagged])
        if scored:
            self.store.put_scored(scored)
        if scored:
            self.bus.publish_records(SCORED_LISTINGS, scored, keys=[s.listing.key for s in scored])
        if events:
            self.bus.publish_records(CASE_EVENTS, events, keys=[e.case_id for e in events])
        log.info(
            "classifier: %d listings, %d scores, %d flagged, %d cases opened",
            len(listings),
            len(scored),
            sum(s.flagged for s in scored),
            len(events),
        )

    def _open_cases(self, flagged: Sequence[ScoredListing]) -> list[CaseEvent]:
        events = []
        for scored in flagged:
            top = scored.reasons[0].vi if scored.reasons else None
            case = Case.open_for(scored.listing.key, scored.brand_id, scored.score, actor=ACTOR, note=top)
            stored, created = self.store.open_case(case)
            if not created and not _unannounced(stored.record):
                continue
            if created:
                log.info(
                    "classifier: case %s opened for %s (%s, %.2f)",
                    case.case_id,
                    case.listing_key,
                    case.brand_id,
                    case.score,
                )
            events.append(
                CaseEvent(
                    event_id=f"{case.case_id}:opened",
                    case_id=case.case_id,
                    kind="opened",
                    state=CaseState.OPEN,
                    listing_key=case.listing_key,
                    brand_id=case.brand_id,
                    score=case.score,
                    actor=ACTOR,
                    at=stored.record.created_at,
                )
            )
        return events


def _unannounced(case: Case) -> bool:
    """Still as the classifier opened it: nobody has acted on it, so its event may be missing."""
    return case.state is CaseState.OPEN and len(case.history) == 1 and case.history[0].actor == ACTOR


def build_handler(store: Store, bus: Bus, settings: Settings, model: TrainedModel | None = None) -> ClassifierHandler:
    """The batch handler the worker runs; tests and the bench drive it directly."""
    model = model or load_or_train(settings.data_dir, settings.model_path)
    return ClassifierHandler(store, bus, settings, model)


def _until_ready(step: Callable[[], None], what: str, stop: threading.Event, longest: float) -> bool:
    backoff = Backoff(longest=longest)
    while not stop.is_set():
        try:
            step()
            return True
        except TransientError as exc:
            log.warning("classifier: %s not ready (%s); retrying", what, exc)
            backoff.wait(stop)
    return False


def run(settings: Settings, stop: threading.Event) -> None:
    model = load_or_train(settings.data_dir, settings.model_path)
    store = open_store(settings.store_url, settings.namespace, settings.data_dir)
    bus = open_bus(settings.bus_url, settings.namespace, settings.data_dir)
    try:
        if not _until_ready(store.setup, "store", stop, settings.retry_max_seconds):
            return
        if not _until_ready(bus.ensure_topics, "bus", stop, settings.retry_max_seconds):
            return
        worker = RecordWorker(
            bus,
            GROUP,
            RAW_LISTINGS,
            build_handler(store, bus, settings, model),
            name="classifier",
            batch_size=settings.worker_batch_size,
            poll_seconds=settings.worker_poll_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            stop=stop,
        )
        worker.run()
    finally:
        bus.close()
        store.close()
