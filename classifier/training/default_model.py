"""The default model: trained on the seed data only, built when the registry has no current model."""

from __future__ import annotations

import fcntl
import json
import logging
from pathlib import Path
from typing import Any

import sklearn

from classifier.artifacts import Manifest, ModelRegistry
from classifier.model import FEATURES_VERSION, PARAMS, TrainedModel
from classifier.seed_data import seed_brands, seed_version
from classifier.training.fit import fit
from classifier.training.metrics import out_of_fold
from classifier.training.pinning import check_against_pin
from classifier.training.rows import SEED, row_counts, seed_training_rows, training_digest
from kcnguard.records import utcnow

log = logging.getLogger(__name__)


def build_seed_artifact(registry: ModelRegistry, threshold: float | None) -> tuple[Manifest, TrainedModel]:
    """The default model: every seed row, version seed_version(); metrics from out-of-fold scores."""
    rows, brands = seed_training_rows(), seed_brands()
    model = fit(rows, brands, seed_version())
    manifest = Manifest(
        version=model.version,
        kind=SEED,
        created_at=utcnow().isoformat(),
        sklearn_version=sklearn.__version__,
        features_version=FEATURES_VERSION,
        training_digest=training_digest(rows),
        rows=row_counts(rows),
        metrics=out_of_fold(rows, brands, threshold, model.threshold if threshold is None else threshold),
        params=manifest_params(),
    )
    return registry.save(model, manifest), model


def manifest_params() -> dict[str, Any]:
    """PARAMS as the manifest records them (JSON types: tuples become lists)."""
    return json.loads(json.dumps(PARAMS))


def ensure_current(data_dir: Path, threshold: float | None) -> tuple[Manifest, TrainedModel]:
    """The registry's current model; the default is built (and made current) when there is none.

    A current default built from older seed data is rebuilt: the default follows the code. A
    current model trained by `kcnguard train` is kept, unless the features changed meaning since
    (its scores would be wrong): then the default replaces it, logged, until it is retrained.
    A tampered current is refused.
    """
    registry = ModelRegistry(data_dir / "models")
    current_version = registry.current_version()
    replaced = ""
    if current_version:
        current = registry.manifest(current_version)
        still_fits = current.kind != SEED and current.features_version == FEATURES_VERSION
        if still_fits or current_version == seed_version():
            return registry.load(current_version)
        if current.kind != SEED:
            replaced = f"features changed ({current.features_version} -> {FEATURES_VERSION}): retrain it"
            log.error("model %s was trained on older features; using the default until retrained", current_version)
    registry.root.mkdir(parents=True, exist_ok=True)
    # Several workers may start at once: one builds, the others wait and then load its result.
    with (registry.root / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if registry.current_version() == seed_version():  # built by another worker meanwhile
                return registry.load(seed_version())
            manifest, model = build_seed_artifact(registry, threshold)
            for difference in check_against_pin(manifest):
                log.warning(
                    "default model differs from classifier/data/default_model.json: %s "
                    "(after changing seed data or features, run: python -m classifier.training pin-default)",
                    difference,
                )
            reason = f"default model, replacing {current_version}" if current_version else "default model"
            reason += f"; {replaced}" if replaced else ""
            registry.set_current(manifest.version, by="classifier", reason=reason)
            return manifest, model
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
