"""Whether a newly trained model becomes current: only if it is no less precise than the current one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from classifier.artifacts import ArtifactError, Manifest, Metrics, ModelRegistry
from classifier.training.metrics import evaluate
from classifier.training.rows import SEED, Row
from kcnguard.records import Brand

log = logging.getLogger(__name__)


@dataclass
class TrainOutcome:
    manifest: Manifest
    promoted: bool
    decision: str  # why it was or was not promoted, in words
    current_version: str | None
    current_metrics: Metrics | None
    problems: list[str]


def promote(
    registry: ModelRegistry,
    manifest: Manifest,
    eval_rows: Sequence[Row],
    brands: Sequence[Brand],
    threshold: float | None,
    *,
    force: bool = False,
    seed_only: bool = False,
    problems: list[str] | None = None,
) -> TrainOutcome:
    """Make a saved model current if its precision on `eval_rows` is not below the current model's."""
    current_version = registry.current_version()
    current_metrics: Metrics | None = None
    new = manifest.metrics
    if current_version == manifest.version:
        decision, promoted = "this model is already current", True
    elif current_version is None:
        decision, promoted = "no current model", True
    elif seed_only and not eval_rows:
        # Without shared evaluation rows, a rebuilt default may only replace an older default.
        promoted = _kind(registry, current_version) == SEED
        decision = (
            "the current model is an older default"
            if promoted
            else f"the current model {current_version} was trained on more than the seed data; keeping it"
        )
    elif new is None:
        decision, promoted = "the new model has no evaluation", False
    else:
        try:
            _, current = registry.load(current_version)
            current_metrics = evaluate(current, eval_rows, brands, threshold, new.data)
        except (ArtifactError, ValueError, OSError) as exc:
            promoted, decision = True, f"the current model {current_version} cannot be evaluated ({exc})"
        else:
            promoted = new.precision >= current_metrics.precision
            decision = f"precision {new.precision:.4f} vs current {current_metrics.precision:.4f} on {new.data}: " + (
                "not lower, promoted" if promoted else "lower, not promoted"
            )
    if not promoted and force:
        promoted, decision = True, decision + "; --force: promoted anyway"
        log.warning("model %s forced to current over %s: %s", manifest.version, current_version, decision)
    if promoted and current_version != manifest.version:
        registry.set_current(manifest.version, by="kcnguard train", reason=decision)
    return TrainOutcome(
        manifest=manifest,
        promoted=promoted,
        decision=decision,
        current_version=current_version,
        current_metrics=current_metrics,
        problems=problems or [],
    )


def _kind(registry: ModelRegistry, version: str) -> str:
    try:
        return registry.manifest(version).kind
    except ArtifactError:
        return "unknown"
