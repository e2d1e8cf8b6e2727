"""Portal page latency: the review queue page, a listing's page and a partner's case list, server-rendered.

    python -m bench.portal [--listings 100000] [--rate 20] [--seconds 20] [--store /tmp/kcnguard-bench-portal]

Builds (or reuses) the same embedded store as bench/api.py (N listings, 30 % flagged, cases,
a tenth referred to the partner agency), starts the API in its own process as `kcnguard api`
does, and drives each page open-loop at --rate requests per second (latency from when a request
was due, so waiting behind a slow page counts). People browse at a few pages per second, not
hundreds, so the default rate is 20/s. The portal cookie carries an API key, as the portal's
key sign-in would set it. Prints p50/p90/p99/max with the machine's core count and writes
bench/results/portal-<time>.json. Goal: p99 < 200 ms per page (a page a person waits for).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from api.portal.session import COOKIE
from bench.api import MARKETPLACES, WORDS, build, drive, free_port, start_api
from bench.results import write_result

ROOT = Path(__file__).resolve().parent.parent
GOAL_P99_MS = 200.0


def queue_page(info: dict[str, Any]) -> Callable[[random.Random], tuple[str, dict[str, str]]]:
    headers = {"Cookie": f"{COOKIE}={info['inspector_key']}"}

    def make(rng: random.Random) -> tuple[str, dict[str, str]]:
        pick = rng.random()
        if pick < 0.4:
            query = f"brand={rng.choice(info['brands'])}&status=new"
        elif pick < 0.7:
            query = f"marketplace={rng.choice(MARKETPLACES)}&status=new"
        elif pick < 0.85:
            query = f"page={rng.randrange(1, 20)}"
        else:
            query = f"brand={rng.choice(info['brands'])}&q={quote(rng.choice(WORDS))}"
        return f"/portal/queue?{query}", headers

    return make


def listing_page(info: dict[str, Any]) -> Callable[[random.Random], tuple[str, dict[str, str]]]:
    headers = {"Cookie": f"{COOKIE}={info['inspector_key']}"}
    n = int(info["listings"])

    def make(rng: random.Random) -> tuple[str, dict[str, str]]:
        i = rng.randrange(n)
        market = MARKETPLACES[i % 4]
        return f"/portal/listings/{market}:{i}", headers

    return make


def partner_page(info: dict[str, Any]) -> Callable[[random.Random], tuple[str, dict[str, str]]]:
    headers = {"Cookie": f"{COOKIE}={info['partner_key']}"}

    def make(rng: random.Random) -> tuple[str, dict[str, str]]:
        return f"/portal/partner/cases?page={rng.randrange(1, 10)}", headers

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--store", type=Path, default=Path("/tmp/kcnguard-bench-portal"))
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, {platform.python_implementation()} {platform.python_version()}")
    info = build(args.store, args.listings)
    port = free_port()
    process = start_api(args.store, port)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        for name, make in (
            ("portal queue page", queue_page(info)),
            ("portal listing page", listing_page(info)),
            ("portal partner cases page", partner_page(info)),
        ):
            drive(name, make, base, min(args.rate, 5.0), 2.0)  # warm caches and connections, not recorded
            result = drive(name, make, base, args.rate, args.seconds)
            results.append(result)
            p = result["from_due_ms"]
            verdict = "ok" if p["p99"] < GOAL_P99_MS else "OVER GOAL"
            print(
                f"{name:28s} {result['requests']} requests at {result['achieved_rate']}/s, "
                f"codes {result['status_codes']}: "
                f"p50 {p['p50']} ms, p90 {p['p90']} ms, p99 {p['p99']} ms, max {p['max']} ms "
                f"(goal p99 < {GOAL_P99_MS:.0f} ms: {verdict}; {cores} cores)"
            )
    finally:
        process.terminate()
        process.wait(30)
    out = write_result(
        "portal",
        {"cores": cores, "listings": args.listings, "rate": args.rate, "seconds": args.seconds, "results": results},
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
