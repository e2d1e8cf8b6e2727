"""`kcnguard crawler`, `scheduler`, `crawl-now`, `recheck`, `replay` and `extract`, wired into the launcher.

Scrapy and Twisted are imported only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kcnguard.process import run_until_stopped
from kcnguard.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("crawler", help="run crawl jobs from the bus").set_defaults(func=cmd_crawler)
    sub.add_parser("scheduler", help="send crawl jobs for every brand, on its interval").set_defaults(
        func=cmd_scheduler
    )
    sub.add_parser("crawl-now", help="send one crawl cycle's jobs now").set_defaults(func=cmd_crawl_now)

    recheck = sub.add_parser("recheck", help="send re-check jobs for listings (marks removed ones, with the time)")
    recheck.add_argument("--brand", default=None, help="only this brand's listings (default: every brand)")
    recheck.add_argument("--all", action="store_true", help="every scored listing, not only the flagged ones")
    recheck.set_defaults(func=cmd_recheck)

    replay = sub.add_parser("replay", help="serve saved marketplace responses at their real paths (DIR/manifest.json)")
    replay.add_argument("--dir", required=True, help="a folder with manifest.json (see crawler/offline/replay.py)")
    replay.add_argument("--host", default="127.0.0.1")
    replay.add_argument("--port", type=int, default=8900)
    replay.set_defaults(func=cmd_replay)

    extract = sub.add_parser("extract", help="print the listings in one saved response (FILE may be gzipped)")
    extract.add_argument("--url", required=True, help="the URL the response was fetched from")
    extract.add_argument(
        "--marketplace", default=None, help="force a parser: tiki, shopee, lazada, sendo, websosanh, webshop"
    )
    extract.add_argument("file", metavar="FILE")
    extract.set_defaults(func=cmd_extract)


def cmd_crawler(_args: argparse.Namespace, settings: Settings) -> int:
    from crawler.service import run

    return run_until_stopped(run, settings)


def cmd_scheduler(_args: argparse.Namespace, settings: Settings) -> int:
    from crawler.scheduler import run

    return run_until_stopped(run, settings)


def cmd_crawl_now(_args: argparse.Namespace, settings: Settings) -> int:
    from crawler.scheduler import schedule_cycle
    from kcnguard.bus import open_bus
    from kcnguard.store import open_store

    store = open_store()
    with open_bus() as bus:
        bus.ensure_topics()
        jobs = schedule_cycle(store, bus, settings)
        bus.flush()
    store.close()
    print(f"{len(jobs)} crawl jobs sent")
    return 0


def cmd_recheck(args: argparse.Namespace, settings: Settings) -> int:
    """Send re-check jobs for a brand's listings (takedown verification); the crawler marks gone ones removed."""
    from crawler.changes import recheck_jobs
    from kcnguard.bus import open_bus
    from kcnguard.store import open_store
    from kcnguard.topics import CRAWL_JOBS

    store = open_store()
    try:
        jobs = recheck_jobs(store, settings.marketplaces, brand_id=args.brand, flagged_only=not args.all)
    finally:
        store.close()
    if jobs:
        with open_bus() as bus:
            bus.ensure_topics()
            bus.publish_records(CRAWL_JOBS, jobs, keys=[job.job_id for job in jobs])
            bus.flush()
    print(f"{len(jobs)} tin đăng sẽ được kiểm tra lại / re-check jobs sent")
    return 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from crawler.offline.replay import ManifestError, serve

    try:
        serve(Path(args.dir), args.host, args.port)
    except ManifestError as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from crawler.offline.extract import run

    return run(args.file, args.url, args.marketplace, out=sys.stdout, err=sys.stderr)
