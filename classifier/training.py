"""`kcnguard train`: labelled rows in, a versioned model out, promoted only if it is no less precise.

Training rows come from three sources, kept apart in the manifest's counts: a labelled file
(the listing-benchmark format, or the seed format), the inspectors' decisions in the store
(a confirmed case is a 1, a dismissed one a 0, with the listing as stored) and the project's
seed data. The evaluation data is either a file or a held-out split that the candidate never
trains on; the current model is scored on the very same rows, so the two precisions compare.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sklearn
from pydantic import ValidationError
from sklearn.metrics import average_precision_score

from classifier.artifacts import ArtifactError, Manifest, Metrics, ModelRegistry
from classifier.brands import BrandMatcher, listing_text
from classifier.evaluate import to_brand, to_listing
from classifier.model import (
    FEATURES_VERSION,
    PARAMS,
    TrainedModel,
    seed_brands,
    seed_rows,
    seed_seller_history,
    seed_version,
    train,
)
from classifier.normalize import normalize
from classifier.scoring import Scorer
from kcnguard.records import Brand, CaseState, Listing, utcnow
from kcnguard.store import Query, Store
from kcnguard.validation import problem_text

log = logging.getLogger(__name__)

SEED, FILE, DECISIONS = "seed", "file", "decisions"
HOLDOUT_FRACTION = 0.2
SEED_FOLDS = 5
# Below this many of each label, a file's or the store's rows cannot carry a held-out split alone.
MIN_PER_LABEL_FOR_SPLIT = 5
# Every state a case reaches only after an inspector confirmed it.
CONFIRMED_STATES = [
    CaseState.CONFIRMED,
    CaseState.REFERRED,
    CaseState.ACKNOWLEDGED,
    CaseState.ACTIONED,
    CaseState.CLOSED,
]
DECISION_PAGE = 500


@dataclass(frozen=True)
class Row:
    listing: Listing
    label: int
    source: str
    origin: str = ""  # where it was read, for problem reports ("listings.jsonl line 12", "case ...")

    @property
    def where(self) -> str:
        return self.origin or f"{self.source} {self.listing.key}"

    def canonical(self) -> str:
        return json.dumps(
            {"label": self.label, "listing": self.listing.model_dump(mode="json")}, sort_keys=True, ensure_ascii=False
        )


@dataclass
class Loaded:
    """Rows read from somewhere, and what could not be used, each with where and why."""

    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _problem_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return problem_text(exc, "(row)", 5)
    return f"{type(exc).__name__}: {exc}"


def read_labelled(path: Path, source: str = FILE) -> Loaded:
    """Rows of a JSONL file: benchmark rows (title, price_vnd, label ...) or seed rows (label, listing).

    A bad line is reported with its number and skipped; the rest still train.
    """
    loaded = Loaded()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise ValueError("a row must be a JSON object")
                label = raw.get("label")
                if label not in (0, 1) or isinstance(label, bool):
                    raise ValueError(f"label must be 0 or 1, not {label!r}")
                listing = Listing.model_validate(raw["listing"]) if "listing" in raw else to_listing(raw)
                loaded.rows.append(Row(listing, label, source, f"{path.name} line {number}"))
            except (ValueError, KeyError, TypeError) as exc:
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else _problem_text(exc)
                loaded.problems.append(f"{path.name} line {number}: {reason}")
    return loaded


def read_brands(path: Path) -> list[Brand]:
    """A brands file: the benchmark's format (aliases, reference_price_vnd) or kcnguard Brand records."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = raw if isinstance(raw, list) else [raw]
    return [Brand.model_validate(b) if "owner_id" in b else to_brand(b) for b in items]


def decision_rows(store: Store) -> Loaded:
    """The inspectors' decisions: confirmed (and every later state) → 1, dismissed → 0, with the stored listing."""
    loaded = Loaded()
    states = [s.value for s in [*CONFIRMED_STATES, CaseState.DISMISSED]]
    offset = 0
    while True:
        page = store.search_cases(
            Query(filters={"state": states}, sort=[("case_id", "asc")], size=DECISION_PAGE, offset=offset)
        )
        for case in page.items:
            stored = store.get_listing(case.listing_key)
            if stored is None:
                loaded.problems.append(f"case {case.case_id}: listing {case.listing_key} is not in the store")
                continue
            # The decision is about this brand: train the listing as if crawled for it.
            listing = stored.record.listing.model_copy(update={"query_brand_id": case.brand_id})
            label = 0 if case.state is CaseState.DISMISSED else 1
            loaded.rows.append(Row(listing, label, DECISIONS, f"case {case.case_id}"))
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return loaded


def merge_brands(*groups: Sequence[Brand]) -> list[Brand]:
    """One brand per id; a later group overrides an earlier one."""
    by_id: dict[str, Brand] = {}
    for group in groups:
        for brand in group:
            by_id[brand.brand_id] = brand
    return list(by_id.values())


def matchable(rows: Sequence[Row], brands: Sequence[Brand]) -> Loaded:
    """Rows whose listing names the brand it is judged against; the others cannot train and are reported."""
    matcher = BrandMatcher(brands)
    known = {b.brand_id for b in brands}
    out = Loaded()
    for row in rows:
        brand_id = row.listing.query_brand_id
        if brand_id is None:
            out.problems.append(f"{row.where} ({row.listing.key}): judged against no brand (query_brand_id is empty)")
        elif brand_id not in known:
            out.problems.append(f"{row.where} ({row.listing.key}): brand {brand_id!r} is not in the brands given")
        elif not any(
            m.brand.brand_id == brand_id for m in matcher.match(row.listing, normalize(listing_text(row.listing)))
        ):
            out.problems.append(f"{row.where} ({row.listing.key}): the listing does not name brand {brand_id!r}")
        else:
            out.rows.append(row)
    return out


def training_digest(rows: Sequence[Row]) -> str:
    """SHA-256 over the canonical rows, sorted: the same rows in any order give the same digest."""
    digest = hashlib.sha256()
    for line in sorted(r.canonical() for r in rows):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def brands_digest(brands: Sequence[Brand]) -> str:
    lines = sorted(
        json.dumps(b.model_dump(mode="json", exclude={"updated_at", "created_at"}), sort_keys=True) for b in brands
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def row_counts(rows: Sequence[Row]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        counts.setdefault(row.source, Counter())[str(row.label)] += 1
    return {source: dict(sorted(c.items())) for source, c in sorted(counts.items())}


def _bucket(row: Row) -> str:
    return hashlib.sha256(f"{row.source}|{row.listing.key}".encode()).hexdigest()


def holdout_split(rows: Sequence[Row], fraction: float = HOLDOUT_FRACTION) -> tuple[list[Row], list[Row]]:
    """(train, held out): per label, the rows whose hash sorts first; the same rows always split the same way."""
    train_rows: list[Row] = []
    held: list[Row] = []
    for label in (0, 1):
        ranked = sorted((r for r in rows if r.label == label), key=_bucket)
        cut = math.ceil(len(ranked) * fraction) if len(ranked) > 1 else 0
        held += ranked[:cut]
        train_rows += ranked[cut:]
    return train_rows, held


def fit(rows: Sequence[Row], brands: Sequence[Brand], version: str) -> TrainedModel:
    # The seed rows carry their sellers' records; sellers of other rows are unknown, hence neutral.
    return train([(r.listing, r.label) for r in rows], list(brands), version, seller_history=seed_seller_history())


def scores_for(model: TrainedModel, rows: Sequence[Row], brands: Sequence[Brand]) -> list[float]:
    """Each row's score for the brand it is judged against (0 when the listing does not concern it)."""
    scorer = Scorer(brands, model, seller_history=seed_seller_history())
    by_pair = {(s.listing.key, s.brand_id): s.score for s in scorer.score_many([r.listing for r in rows])}
    return [by_pair.get((r.listing.key, r.listing.query_brand_id or ""), 0.0) for r in rows]


def metrics(
    labels: Sequence[int], scores: Sequence[float], flagged: Sequence[bool], threshold: float, data: str
) -> Metrics:
    true_pos = sum(1 for f, y in zip(flagged, labels, strict=True) if f and y == 1)
    positives = sum(labels)
    pr_auc = float(average_precision_score(labels, scores)) if 0 < positives < len(labels) else float("nan")
    return Metrics(
        data=data,
        rows=len(labels),
        positives=positives,
        threshold=threshold,
        # Nothing flagged is no evidence of precision: it counts as 0, so it never wins a promotion.
        precision=round(true_pos / sum(flagged), 4) if any(flagged) else 0.0,
        recall=round(true_pos / positives, 4) if positives else 0.0,
        pr_auc=round(pr_auc, 4) if not math.isnan(pr_auc) else 0.0,
        flagged=sum(flagged),
    )


def evaluate(
    model: TrainedModel, rows: Sequence[Row], brands: Sequence[Brand], threshold: float | None, data: str
) -> Metrics:
    """Metrics at `threshold`, or at the model's own operating threshold when None (as the worker flags)."""
    cut = model.threshold if threshold is None else threshold
    scores = scores_for(model, rows, brands)
    return metrics([r.label for r in rows], scores, [s >= cut for s in scores], cut, data)


def out_of_fold(
    rows: Sequence[Row],
    brands: Sequence[Brand],
    threshold: float | None,
    report_threshold: float,
    folds: int = SEED_FOLDS,
) -> Metrics:
    """Every row scored by a model fitted on the other folds: metrics for a model trained on all rows."""
    fold_of = {id(r): int(_bucket(r), 16) % folds for r in rows}
    labels: list[int] = []
    scores: list[float] = []
    flagged: list[bool] = []
    for k in range(folds):
        held = [r for r in rows if fold_of[id(r)] == k]
        if not held:
            continue
        model = fit([r for r in rows if fold_of[id(r)] != k], brands, f"fold-{k}")
        cut = model.threshold if threshold is None else threshold
        fold_scores = scores_for(model, held, brands)
        labels += [r.label for r in held]
        scores += fold_scores
        flagged += [s >= cut for s in fold_scores]
    return metrics(labels, scores, flagged, report_threshold, f"seed data, {folds}-fold out-of-fold scores")


def seed_training_rows() -> list[Row]:
    return [Row(listing, label, SEED) for listing, label in seed_rows()]


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
        params=_params(),
    )
    return registry.save(model, manifest), model


def _params() -> dict[str, Any]:
    return json.loads(json.dumps(PARAMS))


@dataclass
class TrainRequest:
    labelled: Path | None = None
    brands: Path | None = None
    from_store: Store | None = None
    eval_file: Path | None = None
    seed_only: bool = False
    force: bool = False
    threshold: float | None = None  # None: each model's own operating threshold


@dataclass
class TrainOutcome:
    manifest: Manifest
    promoted: bool
    decision: str  # why it was or was not promoted, in words
    current_version: str | None
    current_metrics: Metrics | None
    problems: list[str]


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
        brands = merge_brands(brands, _store_brands(request.from_store))
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
                json.dumps(_params(), sort_keys=True),
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
        params=_params(),
        notes=[f"{len(problems)} input rows not used"] if problems else [],
    )
    manifest = registry.save(model, manifest)
    return _promote(registry, manifest, model, eval_rows, brands, request, problems)


def _store_brands(store: Store) -> list[Brand]:
    out: list[Brand] = []
    while True:
        page = store.list_brands(size=1000, offset=len(out))
        out += page.items
        if not page.items or len(out) >= page.total:
            return out


def _eval_rows(request: TrainRequest, brands: list[Brand], problems: list[str]) -> tuple[list[Row], list[Brand]]:
    assert request.eval_file is not None
    loaded = read_labelled(request.eval_file, source="eval")
    problems += loaded.problems
    if request.brands:
        brands = merge_brands(brands, read_brands(request.brands))
    if not loaded.rows:
        raise ValueError(f"{request.eval_file}: no usable evaluation rows")
    return loaded.rows, brands


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
    return TrainOutcome(manifest, promoted, decision, current_version, current_metrics, problems or [])


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


def _kind(registry: ModelRegistry, version: str) -> str:
    try:
        return registry.manifest(version).kind
    except ArtifactError:
        return "unknown"


# The default model ------------------------------------------------------------------------

PINNED_DEFAULT = Path(__file__).with_name("data") / "default_model.json"


def pinned_default() -> dict[str, Any]:
    """What the shipped default model must be: committed, so a change to the seed data shows in review."""
    return json.loads(PINNED_DEFAULT.read_text(encoding="utf-8"))


def pin_default(manifest: Manifest) -> dict[str, Any]:
    pinned = {
        "version": manifest.version,
        "training_digest": manifest.training_digest,
        "model_sha256": manifest.model_sha256,
        "sklearn_version": manifest.sklearn_version,
        "rows": manifest.rows,
        "metrics": manifest.metrics.__dict__ if manifest.metrics else None,
    }
    PINNED_DEFAULT.write_text(json.dumps(pinned, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return pinned


def check_against_pin(manifest: Manifest) -> list[str]:
    """Differences between a freshly built default and the pinned one, in words (empty: it matches)."""
    try:
        pinned = pinned_default()
    except (OSError, ValueError) as exc:
        return [f"no pinned default model ({exc})"]
    out = []
    for key in ("version", "training_digest", "model_sha256"):
        if pinned.get(key) != getattr(manifest, key):
            out.append(f"{key}: pinned {pinned.get(key)}, built {getattr(manifest, key)}")
    return out


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


def main(argv: list[str] | None = None) -> int:
    """python -m classifier.training pin-default: rebuild the default model and pin what it is."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["pin-default"])
    parser.add_argument("--threshold", type=float, default=None, help="default: the model's own")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        manifest, _ = build_seed_artifact(ModelRegistry(Path(tmp)), args.threshold)
    print(json.dumps(pin_default(manifest), ensure_ascii=False, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
