"""Parsing throughput on the real marketplace responses in ../shared/data, on one core.

Every response a marketplace parser reads (Tiki API/pages/lists, Shopee item and shop lists,
Lazada listItems and search page, Sendo product list and detail, websosanh results) is loaded
into memory once, then each is parsed `--rounds` times in this one process (one core). A "page"
is one response, whatever its size; the figure is pages parsed per second of CPU time, per source
and over all of them, with listings per second beside it. Goal: ≥ 500 pages/s per core overall.

    python -m bench.parse [--rounds 20] [--data ../shared/data] [--json bench/results/parse-<time>.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from crawler.pages.registry import SOURCES

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()


def corpus(data: Path) -> list[tuple[str, str, str, bytes]]:
    """(source, kind, url, body) for every real response that holds listings."""
    pages: list[tuple[str, str, str, bytes]] = []

    def add(source: str, kind: str, url: str, path: Path) -> None:
        pages.append((source, kind, url, path.read_bytes()))

    for path in sorted((data / "tiki" / "api-v2-products").glob("*.json")):
        add("tiki", "product API", f"https://tiki.vn/api/v2/products/{path.stem}", path)
    add("tiki", "product page", "https://tiki.vn/p-p120552065.html", data / "tiki/html/product-120552065.html")
    add("tiki", "category page", "https://tiki.vn/phong-an/c1954", data / "tiki/html/category-do-dung-phong-an.html")
    for path in sorted((data / "tiki" / "seller-store-items").glob("*.json")):
        add("tiki", "seller list", "https://tiki.vn/api/v2/products?seller=1", path)
    add(
        "shopee",
        "item get",
        "https://shopee.vn/api/v4/item/get?itemid=3391609027&shopid=85794847",
        data / "shopee/api-v4-item-get-3391609027.json",
    )
    for path in sorted((data / "shopee").glob("shop-items-trimmed-*.json")):
        add("shopee", "shop list", "https://shopee.vn/api/v4/shop/search_items", path)
    for path in sorted((data / "lazada").glob("listitems-*.json")):
        add("lazada", "listItems", "https://www.lazada.vn/shop/?ajax=true", path)
    for path in sorted((data / "lazada").glob("search-page-*.html")):
        add("lazada", "search page", "https://www.lazada.com.ph/catalog/?q=diapers", path)
    add(
        "sendo",
        "shop list",
        "https://shop-home.sendo.vn/api/v1/product/filter?limit=30&page=1",
        data / "sendo/data__data.json",
    )
    add("sendo", "detail", "https://detail-api.sendo.vn/full/x-34406369", data / "sendo/datainfo__datainfo.json")
    add("websosanh", "results", "https://websosanh.vn/s/tivi.htm?pi=1", data / "websosanh/results-fragment.html")
    return pages


def measure(pages: list[tuple[str, str, str, bytes]], rounds: int) -> dict[tuple[str, str], dict[str, float]]:
    results: dict[tuple[str, str], dict[str, float]] = {}
    for source, kind, url, body in pages:
        parse = SOURCES[source].parse
        listings = len(parse(body, url).listings)  # warm-up, and the listing count
        start = time.process_time()
        for _ in range(rounds):
            parse(body, url)
        seconds = time.process_time() - start
        entry = results.setdefault((source, kind), {"pages": 0, "seconds": 0.0, "listings": 0, "bytes": 0})
        entry["pages"] += rounds
        entry["seconds"] += seconds
        entry["listings"] += listings * rounds
        entry["bytes"] += len(body) * rounds
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"no real data at {args.data}: nothing to measure")
    pages = corpus(args.data)
    results = measure(pages, args.rounds)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (this run uses 1), "
        f"Python {platform.python_version()}"
    )
    print(f"# parse throughput, {len(pages)} real responses × {args.rounds} rounds, one core; machine: {machine}")
    print(f"{'source':<10} {'kind':<14} {'pages':>6} {'pages/s':>9} {'listings/s':>11} {'MB/s':>7}")
    rows = []
    by_source: dict[str, dict[str, float]] = {}
    for (source, kind), entry in results.items():
        rate = entry["pages"] / entry["seconds"]
        print(
            f"{source:<10} {kind:<14} {entry['pages']:>6} {rate:>9.0f} {entry['listings'] / entry['seconds']:>11.0f}"
            f" {entry['bytes'] / entry['seconds'] / 2**20:>7.1f}"
        )
        rows.append({"source": source, "kind": kind, **entry, "pages_per_s": rate})
        total = by_source.setdefault(source, {"pages": 0, "seconds": 0.0, "listings": 0})
        for key in total:
            total[key] += entry[key]
    print()
    for source, total in by_source.items():
        rate, per_listing = total["pages"] / total["seconds"], total["listings"] / total["seconds"]
        print(f"{source:<10} {'all kinds':<14} {total['pages']:>6} {rate:>9.0f} {per_listing:>11.0f}")
    pages_n = sum(t["pages"] for t in by_source.values())
    seconds = sum(t["seconds"] for t in by_source.values())
    overall = pages_n / seconds
    # The corpus holds 40 small Tiki API responses and one 1 MB Lazada page: weighting every kind
    # the same says what a crawl that mixes them evenly would see.
    even = len(results) / sum(e["seconds"] / e["pages"] for e in results.values())
    print(f"{'overall':<25} {pages_n:>6} {overall:>9.0f}   (goal ≥ 500 pages/s per core)")
    print(f"{'one page of each kind':<25} {len(results):>6} {even:>9.0f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(),
                    "machine": machine,
                    "rounds": args.rounds,
                    "rows": rows,
                    "overall_pages_per_s": overall,
                    "each_kind_once_pages_per_s": even,
                },
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
