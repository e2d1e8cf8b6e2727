"""A model in one joblib file: the seed model trained once and cached by its version.

The service loads the registry's digest-checked artifacts (classifier/artifacts.py), not these.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import joblib

from classifier.model import TrainedModel
from classifier.seed_data import seed_version
from classifier.training.fit import train_seed

log = logging.getLogger(__name__)


def save(model: TrainedModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a process reading the cache never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(
            {
                "version": model.version,
                "pipeline": model.pipeline,
                "calibration": list(model.calibration),
                "threshold": model.threshold,
                "metrics": model.metrics,
            },
            tmp,
        )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path) -> TrainedModel:
    """A model file written by `save` (a trusted file: joblib runs code on load, like any pickle)."""
    blob = joblib.load(path)
    if not isinstance(blob, dict) or not isinstance(blob.get("version"), str) or "pipeline" not in blob:
        raise ValueError(f"{path} is not a KCN Guard model file (needs 'version' and 'pipeline')")
    # Files written before calibration existed load with the identity calibration and threshold 0.5.
    a, b = blob.get("calibration", (1.0, 0.0))
    threshold = float(blob.get("threshold", 0.5))
    return TrainedModel(
        version=blob["version"],
        pipeline=blob["pipeline"],
        calibration=(float(a), float(b)),
        threshold=threshold,
        metrics=blob.get("metrics", {}),
    )


def load_or_train(data_dir: Path, model_path: str = "") -> TrainedModel:
    """The configured model file if set; else the seed model, trained once and cached by version."""
    if model_path:
        model = load(Path(model_path))
        log.info("model %s loaded from %s", model.version, model_path)
        return model
    version = seed_version()
    cached = data_dir / "models" / f"{version}.joblib"
    if cached.exists():
        try:
            model = load(cached)
            if model.version == version:
                return model
        except Exception as exc:  # a corrupt or foreign cache file is rebuilt, not trusted
            log.warning("cached model %s unreadable (%s); retraining", cached, exc)
    model = train_seed()
    try:
        save(model, cached)
    except OSError as exc:
        log.warning("could not cache model %s at %s: %s", version, cached, exc)
    log.info("model %s trained from seed data", version)
    return model
