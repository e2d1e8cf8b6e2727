"""One `kcnguard train`: rows gathered, a model fitted and evaluated, saved, and promoted if no less precise."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sklearn

from classifier.artifacts import Manifest, ModelRegistry
from classifier.benchmark_files import read_brands
from classifier.model import FEATURES_VERSION, TrainedModel
from classifier.seed_data import seed_brands
from classifier.training.default_model import build_seed_artifact, manifest_params
from classifier.training.fit import fit
from classifier.training.metrics import evaluate
from classifier.training.promotion import TrainOutcome, promote
from classifier.training.rows import (
    Row,
    brands_digest,
    decision_rows,
    matchable,
    merge_brands,
    read_labelled,
    row_counts,
    seed_training_rows,
    store_brands,
    training_digest,
)
from classifier.training.split import HOLDOUT_FRACTION, holdout_split
from kcnguard.records import Brand, utcnow
from kcnguard.store import Store

# Below this many of each label, a file's or the store's rows cannot carry a held-out split alone.
MIN_PER_LABEL_FOR_SPLIT = 5


@dataclass
class TrainRequest:
    labelled: Path | None = None
    brands: Path | None = None
    from_store: Store | None = None
    eval_file: Path | None = None
    seed_only: bool = False
    force: bool = False
    threshold: float | None = None  # None: each model's own operating threshold


def run_training(request: TrainRequest, registry: ModelRegistry) -> TrainOutcome:
    problems: list[str] = []
    if request.seed_only:
        manifest, model = build_seed_artifact(registry, request.threshold)
        brands: list[Brand] = seed_brands()
        eval_rows: list[Row] = []
        if request.eval_file:
            eval_rows, brands = _eval_rows(request, brands, problems)
            manifest.metrics = evaluate(model, eval_rows, brands, request.threshold, f"file {request.eval_file.name}")
            manifest = registry.save(model, manifest)
        return _promote(registry, manifest, model, eval_rows, brands, request, problems)

    brands = seed_brands()
    if request.from_store is not None:
        brands = merge_brands(brands, store_brands(request.from_store))
    if request.brands:
        brands = merge_brands(brands, read_brands(request.brands))
    extra: list[Row] = []
    if request.labelled:
        loaded = read_labelled(request.labelled)
        extra += loaded.rows
        problems += loaded.problems
    if request.from_store is not None:
        loaded = decision_rows(request.from_store)
        extra += loaded.rows
        problems += loaded.problems
    usable = matchable(extra, brands)
    problems += usable.problems
    seed = seed_training_rows()

    if request.eval_file:
        eval_rows, brands = _eval_rows(request, brands, problems)
        # Never evaluate on a row the model trained on: a listing in both is kept out of training.
        held = {r.listing.key for r in eval_rows}
        train_rows = [r for r in [*seed, *usable.rows] if r.listing.key not in held]
        problems += [
            f"{r.where} ({r.listing.key}): also in the evaluation file; not trained on"
            for r in [*seed, *usable.rows]
            if r.listing.key in held
        ]
        data = f"file {request.eval_file.name}"
    else:
        counts = Counter(r.label for r in usable.rows)
        if min(counts[0], counts[1]) >= MIN_PER_LABEL_FOR_SPLIT:
            kept, eval_rows = holdout_split(usable.rows)
            train_rows, data = [*seed, *kept], f"held-out {HOLDOUT_FRACTION:.0%} of the file and store rows"
        else:
            # Too few to split: the scarce real rows all train, and the seed data gives the held-out part.
            kept_seed, eval_rows = holdout_split(seed)
            train_rows = [*kept_seed, *usable.rows]
            data = f"held-out {HOLDOUT_FRACTION:.0%} of the seed rows (too few file/store rows to split)"
    digest = training_digest(train_rows)
    identity = hashlib.sha256(
        "|".join(
            [
                digest,
                brands_digest(brands),
                json.dumps(manifest_params(), sort_keys=True),
                FEATURES_VERSION,
                sklearn.__version__,
            ]
        ).encode()
    ).hexdigest()
    model = fit(train_rows, brands, f"m-{identity[:12]}")
    manifest = Manifest(
        version=model.version,
        kind="trained",
        created_at=utcnow().isoformat(),
        sklearn_version=sklearn.__version__,
        features_version=FEATURES_VERSION,
        training_digest=digest,
        rows=row_counts(train_rows),
        metrics=evaluate(model, eval_rows, brands, request.threshold, data),
        params=manifest_params(),
        notes=[f"{len(problems)} input rows not used"] if problems else [],
    )
    manifest = registry.save(model, manifest)
    return _promote(registry, manifest, model, eval_rows, brands, request, problems)


def _eval_rows(request: TrainRequest, brands: list[Brand], problems: list[str]) -> tuple[list[Row], list[Brand]]:
    assert request.eval_file is not None
    loaded = read_labelled(request.eval_file, source="eval")
    problems += loaded.problems
    if request.brands:
        brands = merge_brands(brands, read_brands(request.brands))
    if not loaded.rows:
        raise ValueError(f"{request.eval_file}: no usable evaluation rows")
    return loaded.rows, brands


def _promote(
    registry: ModelRegistry,
    manifest: Manifest,
    model: TrainedModel,
    eval_rows: Sequence[Row],
    brands: Sequence[Brand],
    request: TrainRequest,
    problems: list[str],
) -> TrainOutcome:
    return promote(
        registry,
        manifest,
        eval_rows,
        brands,
        request.threshold,
        force=request.force,
        seed_only=request.seed_only,
        problems=problems,
    )
