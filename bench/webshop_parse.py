"""Web-shop product-page parsing throughput on the benchmark's 70 real pages, on one core.

Each page of ../shared/data/webshop-benchmark (gunzipped once, 35 KB to 2 MB, 560 KB on average)
goes through `crawler.pages.webshop.parse` (charset detection, extruct's JSON-LD, microdata,
OpenGraph and, where a Product is declared in it, RDFa, then the HTML fallbacks) `--rounds`
times; the figure is pages and megabytes per second of CPU time of this one process.

    python -m bench.webshop_parse [--rounds 3] [--data ../shared/data/webshop-benchmark]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from pathlib import Path

from crawler.pages.base import ExtractionError
from crawler.pages.webshop import parse

DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "webshop-benchmark").resolve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    truth = json.loads((args.data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [
        (gzip.decompress((args.data / "html" / f"{key}.html.gz").read_bytes()), item["url"])
        for key, item in sorted(truth.items())
    ]
    failures = 0
    slowest: tuple[float, str] = (0.0, "")
    start = time.process_time()
    for _ in range(args.rounds):
        for body, url in pages:
            began = time.process_time()
            try:
                parse(body, url)
            except ExtractionError:
                failures += 1
            slowest = max(slowest, (time.process_time() - began, url))
    seconds = time.process_time() - start
    count = len(pages) * args.rounds
    megabytes = sum(len(body) for body, _ in pages) * args.rounds / 1e6
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {os.cpu_count()} cores, one used; Python {platform.python_version()}")
    rate = f"{count / seconds:.1f} pages/s, {megabytes / seconds:.1f} MB/s"
    print(f"{count} pages ({megabytes:.0f} MB) in {seconds:.2f} s CPU: {rate}")
    print(f"slowest page {slowest[0] * 1000:.0f} ms ({slowest[1][:80]}); {failures} raised ExtractionError")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
