"""Crawl throughput: our Tiki spider against plain Scrapy on the same replayed pages, and `scrapy bench`.

The replay server (crawler/offline/replay.py) serves real Tiki search responses (the 420 items of one
store's saved item list, ../shared/data/tiki/seller-store-items, cut into pages of 40 under
our search envelope) at Tiki's search path. Then, in the same run and on the same server:

  - plain: a bare scrapy.Spider walks CHAINS searches of PAGES pages each, building the next
    page's URL by string formatting: fetching only, no parsing, no items;
  - ours: the real TikiSpider, one Scrapy crawler per job as the crawler service runs them,
    walks the same CHAINS x PAGES pages, and every page goes through our downloader
    middlewares (block detection, backoff retry), the parser (40 listings a page), evidence
    storage (gzip, SHA-256), the item pipelines (re-validation) and the embedded bus.

Politeness is off on both sides (no AutoThrottle, no robots.txt, no delay) and concurrency is
equal (CHAINS requests in flight), so the ratio ours/plain is our per-page overhead. The goal is
ours >= plain / 1.2. Each side runs in its own process (Twisted's reactor runs once per
process) while the server runs in this one; sides alternate over ROUNDS and the best round of
each counts. Finally the real `scrapy bench` (its own server and follow-all spider, 1 core for
the spider) runs for a few seconds, for a machine-level reference.

    python -m bench.crawl [--chains 16] [--pages 50] [--rounds 3] [--scrapy-bench-seconds 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import write_result

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
ITEMS = DATA / "tiki/seller-store-items/tiki__dem-ha-noi__2021-09-22.json"
PER_PAGE = 40


def _manifest(folder: Path, pages: int) -> Any:
    from crawler.offline.replay import load_manifest

    if not ITEMS.exists():
        raise SystemExit(f"real data {ITEMS} is absent: the benchmark needs ../shared/data")
    items = json.loads(ITEMS.read_bytes())
    chunks = [items[i : i + PER_PAGE] for i in range(0, len(items), PER_PAGE)]
    routes = []
    for page in range(1, pages + 1):
        body = {"data": chunks[(page - 1) % len(chunks)], "paging": {"current_page": page, "last_page": pages}}
        path = folder / f"page-{page}.json"
        path.write_text(json.dumps(body, ensure_ascii=False))
        routes.append({"path": "/api/v2/products", "query": {"page": str(page)}, "file": str(path)})
    return load_manifest({"routes": routes}, folder)


def _common(chains: int) -> dict[str, Any]:
    return {
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": chains,
        "CONCURRENT_REQUESTS_PER_DOMAIN": chains,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "STATS_DUMP": False,
    }


# One side, in a child process ------------------------------------------------------------------


class Clock:
    """First and last response times over all crawlers of a side: the steady-state window, which
    leaves out Scrapy's start-up and shutdown (the same fixed cost for both sides)."""

    def __init__(self) -> None:
        self.first = self.last = 0.0
        self.cpu_first = self.cpu_last = 0.0
        self.responses = 0

    def attach(self, crawler: Any) -> None:
        from scrapy import signals

        crawler.signals.connect(self.seen, signal=signals.response_received)

    def seen(self, **_: Any) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if not self.first:
            self.first, self.cpu_first = now, cpu
        self.last, self.cpu_last = now, cpu
        self.responses += 1

    def result(self, pages: int, wall: float, **extra: Any) -> dict[str, Any]:
        # n responses span n - 1 intervals; the wall time (start-up to flushed bus) is kept beside it.
        # CPU seconds of this process over the same window: robust to other work on a shared machine.
        return {
            "pages": pages,
            "seconds": wall,
            "window": self.last - self.first,
            "cpu_window": self.cpu_last - self.cpu_first,
            "responses": self.responses,
            **extra,
        }


def _plain(url: str, chains: int, pages: int) -> dict[str, Any]:
    import scrapy
    from scrapy.crawler import AsyncCrawlerRunner

    from crawler.pages import tiki

    class PlainSpider(scrapy.Spider):
        name = "plain"

        async def start(self) -> Any:
            for chain in range(chains):
                yield scrapy.Request(
                    tiki.search_url(f"chain-{chain}", 1, base_url=url), cb_kwargs={"chain": chain, "page": 1}
                )

        def parse(self, response: Any, chain: int, page: int) -> Any:
            self.crawler.stats.inc_value("bench/pages")
            if page < pages:
                next_url = tiki.search_url(f"chain-{chain}", page + 1, base_url=url)
                yield scrapy.Request(next_url, cb_kwargs={"chain": chain, "page": page + 1})

    runner = AsyncCrawlerRunner(_common(chains))
    crawler = runner.create_crawler(PlainSpider)
    clock = Clock()
    clock.attach(crawler)

    async def main() -> dict[str, Any]:
        started = time.perf_counter()
        await runner.crawl(crawler)
        seconds = time.perf_counter() - started
        return clock.result(int(crawler.stats.get_value("bench/pages", 0)), seconds, listings=0)

    from crawler.reactor import run_reactor

    return run_reactor(main)


def _ours(url: str, chains: int, pages: int, data_dir: Path) -> dict[str, Any]:
    from scrapy.crawler import AsyncCrawlerRunner

    from crawler.settings import scrapy_settings
    from crawler.sink import BusSink, attach_sink
    from crawler.spiders import spider_for
    from crawler.spiders.base import attach_evidence
    from kcnguard.bus import open_bus
    from kcnguard.evidence import LocalEvidenceStore
    from kcnguard.records import CrawlJob
    from kcnguard.settings import Settings

    settings = Settings(data_dir=data_dir, log_level="WARNING")
    bus = open_bus(f"embedded://{data_dir}/bus.sqlite3", namespace="bench")
    bus.ensure_topics()
    evidence = LocalEvidenceStore(data_dir / "evidence")
    runner = AsyncCrawlerRunner({**scrapy_settings(settings), **_common(chains)})
    spider_cls = spider_for("tiki")
    assert spider_cls is not None
    crawls = []
    clock = Clock()
    for chain in range(chains):
        job = CrawlJob(
            job_id=f"bench-{chain}", brand_id="bench", marketplace="tiki", query=f"chain-{chain}", max_pages=pages
        )
        crawler = runner.create_crawler(spider_cls)
        sink = BusSink(bus)
        attach_sink(crawler, sink)
        attach_evidence(crawler, evidence)
        clock.attach(crawler)
        crawls.append((crawler, sink, job))

    async def main() -> dict[str, Any]:
        started = time.perf_counter()
        await asyncio.gather(*(runner.crawl(c, job=job, base_url=url, robots=False) for c, _, job in crawls))
        for _, sink, _ in crawls:
            sink.drain()
        bus.flush()  # the listings are durable on the bus: part of the work
        seconds = time.perf_counter() - started
        return clock.result(
            sum(int(c.stats.get_value("kcnguard/pages", 0)) for c, _, _ in crawls),
            seconds,
            listings=sum(sink.listings for _, sink, _ in crawls),
            quarantined=sum(sink.quarantined for _, sink, _ in crawls),
        )

    from crawler.reactor import run_reactor

    try:
        return run_reactor(main)
    finally:
        bus.close()


def _side(args: argparse.Namespace) -> None:
    if args.side == "plain":
        result = _plain(args.url, args.chains, args.pages)
    else:
        result = _ours(args.url, args.chains, args.pages, Path(args.data_dir))
    print("RESULT " + json.dumps(result), flush=True)


# The parent: server, sides, scrapy bench -------------------------------------------------------


def _run_side(side: str, url: str, chains: int, pages: int, data_dir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.crawl", "--side", side, "--url", url]
    command += ["--chains", str(chains), "--pages", str(pages), "--data-dir", str(data_dir)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"{side} side failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result = json.loads(line[len("RESULT ") :])
    # Steady state: responses per second between the first and the last response.
    result["pages_per_second"] = (result["responses"] - 1) / result["window"]
    result["wall_pages_per_second"] = result["pages"] / result["seconds"]
    result["pages_per_cpu_second"] = (result["responses"] - 1) / result["cpu_window"]
    return result


def _scrapy_bench(seconds: int) -> dict[str, Any]:
    scrapy = Path(sys.executable).with_name("scrapy")
    command = [str(scrapy), "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    log = done.stdout + done.stderr
    pages = re.search(r"'response_received_count': (\d+)", log)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", log)
    rates = [int(x) for x in re.findall(r"Crawled \d+ pages \(at (\d+) pages/min\)", log)]
    if not (pages and elapsed):
        return {"error": f"could not read scrapy bench's stats (exit {done.returncode})", "tail": log[-1500:]}
    return {
        "pages": int(pages.group(1)),
        "seconds": float(elapsed.group(1)),
        "pages_per_second": int(pages.group(1)) / float(elapsed.group(1)),
        "peak_pages_per_minute": max(rates) if rates else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chains", type=int, default=16, help="searches crawled at once (= requests in flight)")
    parser.add_argument("--pages", type=int, default=50, help="result pages per search")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scrapy-bench-seconds", type=int, default=6, help="0 skips `scrapy bench`")
    parser.add_argument("--side", choices=["plain", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        _side(args)
        return

    from crawler.offline.replay import ReplayApp, running

    results: dict[str, list[dict[str, Any]]] = {"plain": [], "ours": []}
    with tempfile.TemporaryDirectory(prefix="kcnguard-bench-crawl-") as tmp:
        folder = Path(tmp)
        app = ReplayApp(_manifest(folder, args.pages))
        with running(app) as url:
            for round_ in range(args.rounds):
                for side in ("plain", "ours"):
                    data_dir = folder / f"{side}-{round_}"
                    data_dir.mkdir()
                    result = _run_side(side, url, args.chains, args.pages, data_dir)
                    results[side].append(result)
                    print(
                        f"round {round_ + 1} {side:5}: {result['pages']} pages, steady {result['pages_per_second']:.0f}"
                        f" pages/s, {result['pages_per_cpu_second']:.0f} per CPU-second of the crawler;"
                        f" wall {result['seconds']:.2f}s = {result['wall_pages_per_second']:.0f} pages/s;"
                        f" {result['listings']} listings",
                        flush=True,
                    )
    best = {side: max(runs, key=lambda r: r["pages_per_second"]) for side, runs in results.items()}
    best_cpu = {side: max(r["pages_per_cpu_second"] for r in runs) for side, runs in results.items()}
    expected_pages = args.chains * args.pages
    for side, run in best.items():
        if run["pages"] != expected_pages:
            raise SystemExit(f"{side} read {run['pages']} pages, not {expected_pages}: the comparison is void")
    ratio = best["ours"]["pages_per_second"] / best["plain"]["pages_per_second"]
    cpu_ratio = best_cpu["ours"] / best_cpu["plain"]
    bench = _scrapy_bench(args.scrapy_bench_seconds) if args.scrapy_bench_seconds else {"skipped": True}

    machine = (
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print()
    print(f"machine: {machine}")
    print(f"pages: {args.chains} searches x {args.pages} pages of {PER_PAGE} real Tiki items, {args.chains} in flight")
    print(f"plain Scrapy (fetch only):          {best['plain']['pages_per_second']:8.0f} pages/s")
    print(
        f"our Tiki spider (parse + pipeline): {best['ours']['pages_per_second']:8.0f} pages/s "
        f"({best['ours']['pages_per_second'] * PER_PAGE:.0f} listings/s)"
    )
    print(
        f"ours / plain: {ratio:.2f}  (goal >= {1 / 1.2:.2f}, i.e. overhead <= 1.2x: "
        f"{'met' if ratio >= 1 / 1.2 else 'NOT met'}; overhead = {1 / ratio:.2f}x)"
    )
    print(
        f"per CPU-second of the crawler process: plain {best_cpu['plain']:.0f}, ours {best_cpu['ours']:.0f} pages;"
        f" ours / plain {cpu_ratio:.2f} (overhead {1 / cpu_ratio:.2f}x)"
    )
    if "pages_per_second" in bench:
        print(
            f"`scrapy bench` (its own server, follow-all spider): {bench['pages_per_second']:.0f} pages/s "
            f"(peak {bench['peak_pages_per_minute']} pages/min)"
        )
    else:
        print(f"`scrapy bench`: {bench}")
    out = write_result(
        "crawl",
        {
            "machine": machine,
            "chains": args.chains,
            "pages": args.pages,
            "rounds": results,
            "best": best,
            "ratio_ours_over_plain": ratio,
            "best_pages_per_cpu_second": best_cpu,
            "cpu_ratio_ours_over_plain": cpu_ratio,
            "scrapy_bench": bench,
        },
    )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
