"""Classifier speed: batch scoring throughput on one core, and single-listing latency.

    python -m bench.classifier [--n 20000] [--batch 1000] [--single 2000]

Listings are the real ones of ../shared/data/listing-benchmark (judged against its ~60
brands), repeated to N with distinct ids, or the project's seed listings when that folder is
absent. Everything runs in this one process (one core); the listings are parsed into Listing
records before the clock starts. Measured:
  - batch: Scorer.judge_many over batches (normalise, match brands, lexicon, features, one
    sparse matrix product, reasons) — what `kcnguard score` does per batch;
  - batch+records: Scorer.score_many, which also wraps each result as a ScoredListing record
    (what the bus worker stores);
  - single: judge_many([listing]) one listing at a time: p50, p99, max latency;
  - cold: the same on each distinct listing text once, by a fresh Scorer per round (a scorer owns
    every reading it keeps, so a fresh one has read nothing): the repeated corpus lets the
    scorer's kept readings (titles repeat across re-crawls) answer most listings, and this is
    the figure without them. Best of at least 10 rounds: a round is short, and the best of a
    few still varied between runs.
Throughput is listings per CPU-second of this process (time.process_time), the best of
--rounds rounds, so that other work on a shared machine does not count against it; wall-clock
figures are given beside it. Latencies are given both as wall time and as this thread's CPU time.
Results are printed and written to bench/results/classifier-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.results import write_result
from classifier.benchmark_files import read_brands, to_listing
from classifier.offline.evaluate import DEFAULT_DATA
from classifier.scoring import Scorer
from classifier.seed_data import seed_brands, seed_rows
from classifier.training.fit import train_seed
from kcnguard.records import Brand, Listing

RESULTS = Path(__file__).parent / "results"


def corpus(n: int) -> tuple[list[Brand], list[Listing], str]:
    if (DEFAULT_DATA / "listings.jsonl").is_file():
        brands = read_brands(DEFAULT_DATA / "brands.json")
        raws = [json.loads(line) for line in (DEFAULT_DATA / "listings.jsonl").read_text().splitlines() if line]
        listings = [to_listing({**raws[i % len(raws)], "id": f"{raws[i % len(raws)]['id']}#{i}"}) for i in range(n)]
        return brands, listings, "listing-benchmark (real listings, repeated)"
    base = [listing for listing, _ in seed_rows()]
    listings = [base[i % len(base)].model_copy(update={"listing_id": f"b{i}"}) for i in range(n)]
    return seed_brands(), listings, "seed listings (../shared/data absent)"


def _p99(sorted_ms: list[float]) -> float:
    return round(sorted_ms[max(0, int(len(sorted_ms) * 0.99) - 1)], 3)


def latencies(scorer: Scorer, listings: list[Listing]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of judging each listing alone, sorted."""
    wall_ms, cpu_ms = [], []
    for listing in listings:
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        scorer.judge_many([listing])
        cpu_ms.append((time.thread_time_ns() - c0) / 1e6)
        wall_ms.append((time.perf_counter_ns() - w0) / 1e6)
    return sorted(wall_ms), sorted(cpu_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--single", type=int, default=2_000, help="listings timed one at a time")
    parser.add_argument("--rounds", type=int, default=3, help="batch rounds; the best is reported")
    args = parser.parse_args(argv)

    brands, listings, source = corpus(args.n)
    scorer = Scorer(brands, train_seed())
    scorer.judge_many(listings[:200])  # warm caches (compiled regexes, vocabularies)

    def rounds(run: Callable[[list[Listing]], object]) -> tuple[float, float]:
        """(best CPU seconds, best wall seconds) over the rounds, each scoring every listing in batches."""
        cpu, wall = [], []
        for _ in range(args.rounds):
            c0, w0 = time.process_time(), time.perf_counter()
            for i in range(0, len(listings), args.batch):
                run(listings[i : i + args.batch])
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        return min(cpu), min(wall)

    judged = len(scorer.judge_many(listings))
    batch_cpu, batch_wall = rounds(scorer.judge_many)
    records_cpu, records_wall = rounds(scorer.score_many)
    wall_ms, cpu_ms = latencies(scorer, listings[: args.single])

    distinct = list({(x.title, x.description, x.query_brand_id): x for x in listings}.values())
    cold_cpu = []
    for _ in range(max(args.rounds, 10)):
        fresh = Scorer(brands, scorer.model)
        c0 = time.process_time()
        for i in range(0, len(distinct), args.batch):
            fresh.judge_many(distinct[i : i + args.batch])
        cold_cpu.append(time.process_time() - c0)
    _, cold_single_cpu_ms = latencies(Scorer(brands, scorer.model), distinct[: args.single])
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "processes": 1,
        "source": source,
        "brands": len(brands),
        "listings": len(listings),
        "judgements": judged,
        "batch_size": args.batch,
        "rounds": args.rounds,
        "batch_listings_per_cpu_second": round(len(listings) / batch_cpu),
        "batch_listings_per_wall_second": round(len(listings) / batch_wall),
        "batch_with_records_listings_per_cpu_second": round(len(listings) / records_cpu),
        "batch_with_records_listings_per_wall_second": round(len(listings) / records_wall),
        "single_wall_ms_p50": round(statistics.median(wall_ms), 3),
        "single_wall_ms_p99": _p99(wall_ms),
        "single_cpu_ms_p50": round(statistics.median(cpu_ms), 3),
        "single_cpu_ms_p99": _p99(cpu_ms),
        "cold_distinct_listings": len(distinct),
        "cold_batch_listings_per_cpu_second": round(len(distinct) / min(cold_cpu)),
        "cold_single_cpu_ms_p50": round(statistics.median(cold_single_cpu_ms), 3),
        "cold_single_cpu_ms_p99": _p99(cold_single_cpu_ms),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=1))
    write_result("classifier", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
