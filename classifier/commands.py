"""`kcnguard classifier`, `train`, `model list|show|use` and `score`, wired into the launcher.

scikit-learn and joblib are imported only when one of these commands runs, so that every
other command starts without them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kcnguard.process import run_until_stopped
from kcnguard.settings import Settings

if TYPE_CHECKING:
    from classifier.artifacts import Metrics

log = logging.getLogger(__name__)

# Exit codes: 0 the model is current; 3 it was trained and kept, but not promoted; 2 bad input.
NOT_PROMOTED = 3
# Enough to see what was wrong with a file; the count says how many more there were.
SHOWN_PROBLEMS = 20


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("classifier", help="score raw listings from the bus").set_defaults(func=cmd_classifier)
    train = sub.add_parser(
        "train",
        help="train a model from labelled rows, store decisions and seed data; promote it if no less precise",
    )
    train.add_argument("--labelled", type=Path, help="labelled rows, JSONL (listing-benchmark or seed format)")
    train.add_argument("--brands", type=Path, help="the brands those rows are judged against (brands.json)")
    train.add_argument("--from-store", action="store_true", help="add the inspectors' confirmed/dismissed cases")
    train.add_argument("--eval", type=Path, dest="eval_file", help="evaluation rows (default: a held-out split)")
    train.add_argument("--seed", action="store_true", help="rebuild the default model from the seed data only")
    train.add_argument("--force", action="store_true", help="make it current even if its precision is lower")
    train.set_defaults(func=cmd_train)

    model = sub.add_parser("model", help="list, show or switch the versioned models (data_dir/models)")
    model.add_argument("action", choices=["list", "show", "use"])
    model.add_argument("version", nargs="?", help="for show (default: current) and use")
    model.set_defaults(func=cmd_model)

    score = sub.add_parser("score", help="score a JSONL file of listings against a brands file; one JSON line each")
    score.add_argument("--brands", type=Path, required=True, help="brands.json (listing-benchmark format)")
    score.add_argument("--listings", type=Path, required=True, help="listings, one JSON object per line")
    score.add_argument("--threshold", type=float, default=None, help="default: the model's operating threshold")
    score.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the reasons (default vi)")
    score.add_argument(
        "--model", type=Path, default=None, help="a model artifact directory (default: the one the worker uses)"
    )
    score.set_defaults(func=cmd_score)


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    """Score a file with the same model the worker scores with, so an audit reproduces what inspectors saw."""
    from classifier.artifacts import ArtifactError, read_artifact
    from classifier.offline.file_scoring import score_file
    from classifier.service import load_model

    try:
        model = read_artifact(args.model)[1] if args.model else load_model(settings)
    except ArtifactError as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    with args.listings.open(encoding="utf-8") as listings:
        return score_file(args.brands, listings, sys.stdout, sys.stderr, model, args.threshold, args.lang)


def cmd_classifier(_args: argparse.Namespace, settings: Settings) -> int:
    from classifier.service import run

    return run_until_stopped(run, settings)


def _metrics_line(metrics: Metrics | None) -> str:
    if metrics is None:
        return "no evaluation"
    return (
        f"precision {metrics.precision:.4f}, recall {metrics.recall:.4f}, PR-AUC {metrics.pr_auc:.4f} "
        f"@ {metrics.threshold:g} on {metrics.rows} rows ({metrics.positives} positive): {metrics.data}"
    )


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.artifacts import ArtifactError, ModelRegistry
    from classifier.training.run import TrainRequest, run_training

    if args.seed and (args.labelled or args.from_store):
        print("lỗi / error: --seed trains on the seed data only; drop --labelled/--from-store", file=sys.stderr)
        return 2
    for path in (args.labelled, args.brands, args.eval_file):
        if path is not None and not path.is_file():
            print(f"lỗi / error: không có tệp / no such file: {path}", file=sys.stderr)
            return 2
    store = None
    if args.from_store:
        from kcnguard.store import open_store

        store = open_store(settings.store_url, settings.namespace, settings.data_dir)
        store.setup()
    request = TrainRequest(
        labelled=args.labelled,
        brands=args.brands,
        from_store=store,
        eval_file=args.eval_file,
        seed_only=args.seed,
        force=args.force,
        threshold=settings.flag_threshold,
    )
    try:
        outcome = run_training(request, ModelRegistry(settings.data_dir / "models"))
    except (ValueError, OSError, ArtifactError) as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    finally:
        if store is not None:
            store.close()
    for problem in outcome.problems[:SHOWN_PROBLEMS]:
        print(f"bỏ qua / skipped: {problem}", file=sys.stderr)
    if len(outcome.problems) > SHOWN_PROBLEMS:
        print(f"... {len(outcome.problems) - SHOWN_PROBLEMS} more rows skipped", file=sys.stderr)
    manifest = outcome.manifest
    print(f"model {manifest.version} (sha256 {manifest.model_sha256})")
    print(f"rows: {json.dumps(manifest.rows, sort_keys=True)}; training digest {manifest.training_digest}")
    print(f"new:     {_metrics_line(manifest.metrics)}")
    if outcome.current_version and outcome.current_version != manifest.version:
        print(f"current: {outcome.current_version}: {_metrics_line(outcome.current_metrics)}")
    verdict = "đã dùng / now current" if outcome.promoted else "không dùng / not promoted"
    print(f"{verdict}: {outcome.decision}")
    return 0 if outcome.promoted else NOT_PROMOTED


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    from classifier.artifacts import ArtifactError, ModelRegistry

    registry = ModelRegistry(settings.data_dir / "models")
    try:
        current = registry.current_version()
        if args.action == "list":
            for manifest in registry.versions():
                mark = "*" if manifest.version == current else " "
                precision = f"{manifest.metrics.precision:.4f}" if manifest.metrics else "-"
                print(f"{mark} {manifest.version:22} {manifest.kind:8} {manifest.created_at}  precision {precision}")
            if current is None:
                print("(chưa có mô hình hiện hành / no current model: the worker builds the default on start)")
            return 0
        version = args.version or current
        if not version:
            print("lỗi / error: no current model; name a VERSION (kcnguard model list)", file=sys.stderr)
            return 2
        if args.action == "show":
            print(registry.manifest(version).to_json(), end="")
            return 0
        if args.action == "use":
            if not args.version:
                print("lỗi / error: model use needs a VERSION (kcnguard model list)", file=sys.stderr)
                return 2
            registry.set_current(version, by="kcnguard model use", reason=f"chosen by hand over {current}")
            log.warning("model %s made current by hand (was %s)", version, current)
            print(f"model {version} is now current (was {current}); running workers switch at their next batch")
            return 0
    except ArtifactError as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    raise AssertionError(args.action)
