"""The classifier service: raw listings in; stored listings, scores, cases and case events out.

Each batch is scored in one go and written in bulk. Every step is idempotent, so a re-delivered
batch changes nothing: listings merge by key (history kept), scores are keyed by listing and
brand, a case is created only if absent, and its "opened" event is published again while the
case is still untouched: a crash between creating the case and flushing the event would
otherwise lose the event for good. The event id is fixed per case, so a consumer drops the
repeats. A still-open case whose score moved is updated and announced as "rescored".

The model is the registry's current one (data_dir/models, see classifier/artifacts.py), checked
once per batch, so `kcnguard model use` or a promoted `kcnguard train` reaches running workers
without a restart. More workers in the consumer group share the partitions of the raw topic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from classifier.artifacts import ArtifactError, ModelRegistry, read_artifact
from classifier.model import TrainedModel
from classifier.scoring import Scorer
from classifier.seller_history import StoreSellerHistory
from classifier.training.default_model import ensure_current
from kcnguard.backoff import Backoff
from kcnguard.bus import Bus, open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.errors import ConflictError, TransientError
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
# A still-open case is re-scored (and announced) only when its score moves at least this much.
RESCORE_DELTA = 0.05


def load_model(settings: Settings) -> TrainedModel:
    """KCNGUARD_MODEL_PATH (an artifact directory, digest-checked) if set; else the registry's current."""
    if settings.model_path:
        manifest, model = read_artifact(Path(settings.model_path))
        log.info("classifier: model %s from %s (sha256 %s)", model.version, settings.model_path, manifest.model_sha256)
        return model
    manifest, model = ensure_current(settings.data_dir, settings.flag_threshold)
    log.info("classifier: model %s, the registry's current (sha256 %s)", model.version, manifest.model_sha256)
    return model


class ModelSource:
    """The model to score with; follows the registry's `current` pointer, checked once per batch.

    A pointer that names a model which cannot be loaded (tampered, missing) is logged and the
    model in use is kept: scoring goes on, and the check repeats on the next change.
    """

    def __init__(self, model: TrainedModel, registry: ModelRegistry | None) -> None:
        self.model, self.registry = model, registry
        self._stamp = registry.pointer_stamp() if registry else None

    def current(self) -> TrainedModel:
        if self.registry is None:
            return self.model
        stamp = self.registry.pointer_stamp()
        if stamp == self._stamp:
            return self.model
        self._stamp = stamp
        try:
            loaded = self.registry.load_current()
        except (ArtifactError, OSError, ValueError) as exc:
            log.error("classifier: new current model refused (%s); still scoring with %s", exc, self.model.version)
            return self.model
        if loaded and loaded[1].version != self.model.version:
            log.info("classifier: model %s replaces %s", loaded[1].version, self.model.version)
            self.model = loaded[1]
        return self.model


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

    def __init__(
        self, store: Store, bus: Bus, settings: Settings, model: TrainedModel, registry: ModelRegistry | None = None
    ) -> None:
        self.store, self.bus, self.settings = store, bus, settings
        self.models = ModelSource(model, registry)
        self.registry = BrandRegistry(store)
        self.seller_history = StoreSellerHistory(store)
        self._scorer: Scorer | None = None
        self._scorer_key: tuple[object, ...] = ()

    @property
    def model(self) -> TrainedModel:
        return self.models.model

    def scorer(self) -> Scorer:
        brands = self.registry.brands()
        model = self.models.current()
        key = (model.version, *sorted((b.brand_id, b.updated_at.isoformat()) for b in brands))
        # Compiling the brand patterns is the costly part; redo it only when the brands or the model changed.
        if self._scorer is None or key != self._scorer_key:
            self._scorer = Scorer(brands, model, self.settings.flag_threshold, seller_history=self.seller_history)
            self._scorer_key = key
            log.info("classifier: scoring against %d brands with model %s", len(brands), model.version)
        return self._scorer

    def __call__(self, records: Sequence[Record]) -> None:
        listings = [r for r in records if isinstance(r, Listing)]
        if len(listings) != len(records):
            wrong = next(type(r).__name__ for r in records if not isinstance(r, Listing))
            raise TypeError(f"the classifier handles Listing records, not {wrong}")
        if not listings:
            return
        self.store.upsert_listings(listings)
        self.seller_history.new_batch()
        scored = self.scorer().score_many(listings)
        # Cases before scores: whoever can see a flagged score can then also find its case.
        events = self._open_cases([s for s in scored if s.flagged])
        if scored:
            self.store.put_scored(scored)
            self.bus.publish_records(SCORED_LISTINGS, scored, keys=[s.listing.key for s in scored])
        if events:
            self.bus.publish_records(CASE_EVENTS, events, keys=[e.case_id for e in events])
        log.info(
            "classifier: %d listings, %d scores, %d flagged, %d case events (model %s)",
            len(listings),
            len(scored),
            sum(s.flagged for s in scored),
            len(events),
            self.model.version,
        )

    def _open_cases(self, flagged: Sequence[ScoredListing]) -> list[CaseEvent]:
        """Open a case per flagged score in one bulk write; announce new ones, re-score open ones."""
        candidates = [
            Case.open_for(s.listing.key, s.brand_id, s.score, actor=ACTOR, note=s.reasons[0].vi if s.reasons else None)
            for s in flagged
        ]
        events = []
        for scored, (stored, created) in zip(flagged, self.store.open_cases(candidates), strict=True):
            case = stored.record
            if created:
                log.info(
                    "classifier: case %s opened for %s (%s, %.2f)",
                    case.case_id,
                    case.listing_key,
                    case.brand_id,
                    case.score,
                )
            elif case.state is CaseState.OPEN and abs(case.score - scored.score) >= RESCORE_DELTA:
                if _unannounced(case):  # its "opened" may have been lost; repeating it costs a dropped duplicate
                    events.append(_event(case, "opened", f"{case.case_id}:opened", case.created_at))
                rescored = self._rescore(case, stored.version, scored)
                if rescored is not None:
                    events.append(rescored)
                continue
            elif not _unannounced(case):
                continue
            events.append(_event(case, "opened", f"{case.case_id}:opened", case.created_at))
        return events

    def _rescore(self, case: Case, version: str, scored: ScoredListing) -> CaseEvent | None:
        """Update a still-open case's score; an inspector acting on it at that moment wins."""
        updated = case.model_copy(update={"score": scored.score, "updated_at": scored.scored_at})
        try:
            self.store.save_case(updated, version)
        except ConflictError:
            log.info("classifier: case %s changed while re-scoring; left to the inspector", case.case_id)
            return None
        log.info("classifier: case %s re-scored %.2f -> %.2f", case.case_id, case.score, scored.score)
        # One event per score the case takes: a redelivered batch repeats the id, and consumers drop it.
        event_id = f"{case.case_id}:rescored:{scored.model_version}:{scored.score:.4f}"
        return _event(updated, "rescored", event_id[:128], scored.scored_at)


def _event(case: Case, kind: str, event_id: str, at: datetime) -> CaseEvent:
    return CaseEvent(
        event_id=event_id,
        case_id=case.case_id,
        kind=kind,
        state=case.state,
        listing_key=case.listing_key,
        brand_id=case.brand_id,
        score=case.score,
        actor=ACTOR,
        at=at,
    )


def _unannounced(case: Case) -> bool:
    """Still as the classifier opened it: nobody has acted on it, so its event may be missing."""
    return case.state is CaseState.OPEN and len(case.history) == 1 and case.history[0].actor == ACTOR


def build_handler(store: Store, bus: Bus, settings: Settings, model: TrainedModel | None = None) -> ClassifierHandler:
    """The batch handler the worker runs; tests and the bench drive it directly.

    Without an explicit model it follows the registry (unless KCNGUARD_MODEL_PATH pins one).
    """
    follows = model is None and not settings.model_path
    model = model or load_model(settings)
    return ClassifierHandler(
        store, bus, settings, model, ModelRegistry(settings.data_dir / "models") if follows else None
    )


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
            build_handler(store, bus, settings),
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
