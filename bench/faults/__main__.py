"""`python -m bench.faults`: every scenario on every backend asked for, then a table for the README."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.faults.scenarios import ALL, Outcome
from bench.faults.stack import Noida, Stack
from bench.results import machine, write_result


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| scenario | backend | listings | lost | duplicated | dead-lettered (expected) | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        c = o.counts
        lines.append(
            f"| {o.scenario} | {o.backend} | {o.published} | {c.lost} | {c.duplicated} "
            f"| {c.dead_lettered} ({o.poison}) | {o.seconds:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--backend", choices=["embedded", "kafka", "both"], default="embedded")
    parser.add_argument("--kafka", help="kafka://host:port of the noida-db test server")
    parser.add_argument("--es", help="elasticsearch://host:port of the same server")
    parser.add_argument("--noida-dir", type=Path, help="the noida-db --data-dir, to stop and start its services")
    parser.add_argument("--listings", type=int, default=400, help="listings per scenario")
    parser.add_argument("--only", nargs="*", choices=sorted(ALL), help="these scenarios only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # the harness's own client during the outages it makes
    backends = ["embedded", "kafka"] if args.backend == "both" else [args.backend]
    if "kafka" in backends and not (args.kafka and args.es and args.noida_dir):
        parser.error("the Kafka + Elasticsearch run needs --kafka, --es and --noida-dir (see .ci/run)")
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="kcnguard-faults-") as tmp:
        for backend in backends:
            for name in args.only or ALL:
                if backend == "embedded":
                    stack = Stack("embedded", Path(tmp), "embedded://", "sqlite://")
                else:
                    stack = Stack("kafka+es", Path(tmp), args.kafka, args.es, Noida(args.noida_dir))
                try:
                    stack.setup()
                    outcome = ALL[name](stack, args.listings)
                finally:
                    stack.close()
                outcomes.append(outcome)
                c = outcome.counts
                print(
                    f"{'ok ' if outcome.ok else 'BAD'} {outcome.scenario} on {outcome.backend}: lost {c.lost}, "
                    f"duplicated {c.duplicated}, dead-lettered {c.dead_lettered}/{outcome.poison}"
                    f" in {outcome.seconds:.0f} s" + "".join(f"\n    {note}" for note in c.notes[:5]),
                    flush=True,
                )
    cores = machine()["cores"]
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, {cores} cores\n\n{table(outcomes)}")
    write_result("faults", {"outcomes": [json.loads(json.dumps(asdict(o), default=str)) for o in outcomes]})
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
