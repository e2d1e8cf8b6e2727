"""`kcnguard score`: the command's arguments; the scoring of the file is classifier/offline/file_scoring.py.

    kcnguard score --brands BRANDS.json --listings LISTINGS.jsonl [--threshold T] [--lang vi|en] [--model FILE]

scikit-learn loads only when the command runs, so that every other command starts without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kcnguard.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    from classifier.artifacts import ArtifactError, read_artifact
    from classifier.offline.file_scoring import score_file
    from classifier.service import load_model

    # The same model the worker scores with, so an audit reproduces what inspectors saw.
    try:
        model = read_artifact(args.model)[1] if args.model else load_model(settings)
    except ArtifactError as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    with args.listings.open(encoding="utf-8") as listings:
        return score_file(args.brands, listings, sys.stdout, sys.stderr, model, args.threshold, args.lang)
