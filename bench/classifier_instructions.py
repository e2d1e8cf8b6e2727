"""Classifier work in instructions, for comparing two checkouts on a loaded machine.

    cd /tmp && PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH=<checkout> \\
      valgrind --tool=callgrind --dump-before=os_getppid --callgrind-out-file=<out>.%p \\
      python -P <this worktree>/bench/classifier_instructions.py

(-P and a directory outside both checkouts: the classifier imported is then the one PYTHONPATH
names, whichever checkout this file is run from.)

Wall-clock time on a shared machine varies with the other work on it; an instruction count does
not. This driver scores a fixed workload with whichever checkout PYTHONPATH names (the code
before and after a change), and marks the stages with a call to os.getppid(), which nothing in the
scorer calls: callgrind's --dump-before=os_getppid then writes one profile per stage:
  1. setup: imports, training the seed model, reading the listings;
  2. build: making a Scorer for the brands (what a worker does once);
  3. cold: that Scorer judging each distinct listing text once, in batches of --batch (the
     listings are the benchmark's, repeated to --warm: the repeats share their texts);
  4. warm-up: a second Scorer judging the warm corpus once (not measured, it fills the memo);
  5. warm: that Scorer judging the warm corpus again, every text already read.
The cyclic collector is off throughout, so its passes do not land in one stage or another.
`callgrind_annotate <out>.<pid>.3` (or .5) gives a stage's per-function counts; the summary line
of each is its instruction total. Without valgrind it just runs the workload.

Runs against the code before the classifier's rooms (46317d9) as well: it imports what each
checkout names its parts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-benchmark"


def mark() -> None:
    """The end of a stage: callgrind dumps its counts before this call."""
    os.getppid()


def readers():
    """(brand reader, listing reader, train_seed, forget) from whichever checkout is imported."""
    try:
        from classifier.benchmark_files import read_brands, to_listing
        from classifier.training.fit import train_seed

        def forget(model: object) -> None:
            """Nothing to forget: a fresh Scorer has read nothing."""

        return read_brands, to_listing, train_seed, forget
    except ImportError:
        from classifier.brands import forget_spellings
        from classifier.evaluate import to_brand, to_listing
        from classifier.model import train_seed

        def read_brands(path: Path) -> list:
            return [to_brand(b) for b in json.loads(path.read_text())]

        def forget(model) -> None:
            # The old code kept readings across scorers, at module level and in the model.
            model.forget_texts()
            forget_spellings()

        return read_brands, to_listing, train_seed, forget


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="listing-benchmark folder")
    parser.add_argument("--warm", type=int, default=8_000, help="listings in the warm corpus")
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args(argv)
    gc.disable()

    from classifier.scoring import Scorer

    read_brands, to_listing, train_seed, forget = readers()
    brands = read_brands(args.data / "brands.json")
    raws = [json.loads(line) for line in (args.data / "listings.jsonl").read_text().splitlines() if line]
    listings = [to_listing({**raws[i % len(raws)], "id": f"{raws[i % len(raws)]['id']}#{i}"}) for i in range(args.warm)]
    distinct = list({(x.title, x.description, x.query_brand_id): x for x in listings}.values())
    model = train_seed()
    forget(model)
    mark()

    cold = Scorer(brands, model)
    mark()

    cold_judged = 0
    for i in range(0, len(distinct), args.batch):
        cold_judged += len(cold.judge_many(distinct[i : i + args.batch]))
    mark()

    warm = Scorer(brands, model)
    for i in range(0, len(listings), args.batch):
        warm.judge_many(listings[i : i + args.batch])
    mark()

    warm_judged = 0
    for i in range(0, len(listings), args.batch):
        warm_judged += len(warm.judge_many(listings[i : i + args.batch]))
    mark()

    counts = {"cold_texts": len(distinct), "cold_judgements": cold_judged}
    print(json.dumps({**counts, "warm_listings": len(listings), "warm_judgements": warm_judged}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
