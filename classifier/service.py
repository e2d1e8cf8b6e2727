"""The classifier service: raw listings in; stored listings, scores, cases and case events out.

Each batch is scored in one go and written in bulk. Every step is idempotent, so a re-delivered
batch changes nothing: listings merge by key (history kept), scores are keyed by listing and
brand, a case is created only if absent, and its "opened" event is published again while the
case is still untouched: a crash between creating the case and flushing the event would
otherwise lose the event for good. The event id is fixed per case, so a consumer drops the
repeats. A still-open case whose score moved is updated and announced as "rescored". Cases are
opened, re-scored and audited by kcnguard.cases.flow, as the API's case changes are.

The model is the registry's current one (data_dir/models, see classifier/artifacts.py), checked
once per batch, so `kcnguard model use` or a promoted `kcnguard train` reaches running workers
without a restart. More workers in the consumer group share the partitions of the raw topic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

from classifier.artifacts import ArtifactError, ModelRegistry, read_artifact
from classifier.model import TrainedModel
from classifier.scoring import Scorer
from classifier.seller_history import StoreSellerHistory
from classifier.training.default_model import ensure_current
from kcnguard.bus import Bus, open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.cases.flow import follow_scores, open_cases
from kcnguard.process import StoppedBeforeReady, until_ready
from kcnguard.records import Brand, Listing, Record
from kcnguard.settings import Settings
from kcnguard.store import Store, open_store
from kcnguard.store.checked import id_problem
from kcnguard.topics import CASE_EVENTS, RAW_LISTINGS, SCORED_LISTINGS

log = logging.getLogger(__name__)
T = TypeVar("T")

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
        # Only brands whose rights the Board verified are scored: a claim nobody checked flags nothing.
        brands: list[Brand] = []
        read = 0
        while True:
            page = self.store.list_brands(size=BRAND_PAGE, offset=read)
            read += len(page.items)
            brands.extend(b for b in page.items if b.monitored)
            if not page.items or read >= page.total:
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
        self.seller_history.new_batch(listings)
        scored = self.scorer().score_many(listings)
        # Every id this batch will write is checked before the first write, so a record the store would refuse
        # fails here (and is dead-lettered alone) instead of after its listing or case was written.
        _check_ids([listing.key for listing in listings] + [s.key for s in scored])
        self.store.upsert_listings(listings)
        # Scores before cases: a failure in between leaves a score without its case, which the re-delivered
        # batch opens; the other order left cases whose score (what the review queue lists) was never written.
        if scored:
            self.store.put_scored(scored)
        events = open_cases(self.store, [s for s in scored if s.flagged], ACTOR, RESCORE_DELTA)
        events += follow_scores(self.store, [s for s in scored if not s.flagged], ACTOR)
        if scored:
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


def _check_ids(ids: Sequence[str]) -> None:
    for doc_id in ids:
        problem = id_problem(doc_id)
        if problem is not None:
            raise ValueError(f"{problem}: {doc_id[:80]!r}…")


def build_handler(store: Store, bus: Bus, settings: Settings, model: TrainedModel | None = None) -> ClassifierHandler:
    """The batch handler the worker runs; tests and the bench drive it directly.

    Without an explicit model it follows the registry (unless KCNGUARD_MODEL_PATH pins one).
    """
    follows = model is None and not settings.model_path
    model = model or load_model(settings)
    return ClassifierHandler(
        store, bus, settings, model, ModelRegistry(settings.data_dir / "models") if follows else None
    )


def run(settings: Settings, stop: threading.Event) -> None:
    """Score raw listings until `stop` is set; waits out a store, bus or disk that is not ready at start."""

    def ready(step: Callable[[], T], what: str) -> T:
        return until_ready(step, what, stop, service="classifier", longest=settings.retry_max_seconds)

    store: Store | None = None
    bus: Bus | None = None
    try:
        store = ready(lambda: open_store(settings.store_url, settings.namespace, settings.data_dir), "store")
        bus = ready(lambda: open_bus(settings.bus_url, settings.namespace, settings.data_dir), "bus")
        ready(store.setup, "store setup")
        ready(bus.ensure_topics, "bus topics")
        handler = ready(partial(build_handler, store, bus, settings), "model")
        worker = RecordWorker(
            bus,
            GROUP,
            RAW_LISTINGS,
            handler,
            name="classifier",
            batch_size=settings.worker_batch_size,
            poll_seconds=settings.worker_poll_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            stop=stop,
        )
        worker.run()
    except StoppedBeforeReady as exc:
        log.info("%s", exc)
    finally:
        for closeable in (bus, store):
            if closeable is not None:
                closeable.close()
