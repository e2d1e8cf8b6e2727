"""The `kcnguard` command: the main job, one subcommand per service, and admin tasks.

Services are imported only when their subcommand runs, so the shared package never
depends on a service's internals; `kcnguard run` starts each service as its own process.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from kcnguard import logs
from kcnguard.settings import Settings, get_settings

log = logging.getLogger("kcnguard")

# Subcommands that run a long-lived service; `kcnguard run` starts these, docker-compose too.
SERVICES = ("api", "crawler", "classifier", "scheduler", "demo-marketplace", "webhooks")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(signum: int, _frame: object) -> None:
        log.info("signal %s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    return stop


def _run_service(module: str) -> Callable[[argparse.Namespace, Settings], int]:
    def command(_args: argparse.Namespace, settings: Settings) -> int:
        import importlib

        service = importlib.import_module(module)
        stop = _stop_on_signals()
        service.run(settings, stop)
        return 0

    return command


def cmd_api(_args: argparse.Namespace, settings: Settings) -> int:
    import gc

    import uvicorn

    from api.main import create_app

    app = create_app(settings)
    # The app's routes, models and schemas are ~100,000 long-lived objects: every full collection walked them
    # all, 30-50 ms in which no request was answered (the whole of the API's p99 at 100 requests/s, bench/api.py).
    # Frozen, they are left out of collections; what requests allocate is still collected.
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )
    return 0


def cmd_demo_marketplace(_args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "demo.marketplace:create_app",
        factory=True,
        host=settings.demo_host,
        port=settings.demo_port,
        log_level="warning",
    )
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from kcnguard.mainjob import MainJob

    return MainJob(settings, wait_seconds=args.wait, exit_after_flagged=args.exit_after_flagged).run()


def cmd_setup(_args: argparse.Namespace, settings: Settings) -> int:
    from kcnguard.bootstrap import prepare_backends

    prepare_backends(settings)
    print(f"store {settings.store_url} and bus {settings.bus_url} ready (namespace {settings.namespace})")
    return 0


def cmd_apikey(args: argparse.Namespace, settings: Settings) -> int:
    from api.keys import create_key
    from kcnguard.store import open_store

    store = open_store()
    store.setup()
    raw = create_key(store, name=args.name, role=args.role, owner_id=args.owner)
    store.close()
    print(raw)
    print(f"# {args.role} key '{args.name}' created; it is shown only once", file=sys.stderr)
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """From --password-file, else a prompt (asked twice) on a terminal, else the first line of stdin."""
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").splitlines()[0]
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Mật khẩu / password: ")
        if getpass.getpass("Nhập lại / again: ") != first:
            raise ValueError("hai lần nhập mật khẩu khác nhau / the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from api.auth.users import create_user
    from api.problems import Problem
    from kcnguard.store import open_store

    try:
        password = _read_password(args)
    except (OSError, IndexError, ValueError) as exc:
        print(f"lỗi / error: no password: {exc}", file=sys.stderr)
        return 2
    store = open_store()
    store.setup()
    try:
        user = create_user(store, args.username, password, args.role, args.owner, args.display_name, created_by="cli")
    except Problem as exc:
        print(f"lỗi / error: {exc.vi} / {exc.en}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"user {user.username} created with role {user.role}" + (f" for {user.owner_id}" if user.owner_id else ""))
    return 0


def cmd_brands_load(args: argparse.Namespace, settings: Settings) -> int:
    from kcnguard.records import Brand
    from kcnguard.store import open_store

    if args.demo:
        from demo.catalogue import load_brands

        brands = load_brands()
    else:
        try:
            raw = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"lỗi / error: cannot read {args.file}: {exc}", file=sys.stderr)
            return 2
        brands = [Brand.model_validate(b) for b in (raw if isinstance(raw, list) else [raw])]
    from api.enterprises.service import ensure_enterprise, get_enterprise

    store = open_store()
    store.setup()
    if args.demo:
        from demo.catalogue import load_enterprises

        for enterprise in load_enterprises():
            ensure_enterprise(store, enterprise)
    unknown = sorted({b.owner_id for b in brands if get_enterprise(store, b.owner_id) is None})
    if unknown:
        store.close()
        print(
            f"lỗi / error: owner_id chưa đăng ký / not registered enterprises: {', '.join(unknown)}; "
            "register them first (POST /v1/enterprises)",
            file=sys.stderr,
        )
        return 2
    for brand in brands:
        store.put_brand(brand)
    store.close()
    print(f"{len(brands)} brands registered: {', '.join(b.brand_id for b in brands)}")
    return 0


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


def cmd_dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """Print what was quarantined, newest last, without consuming it for anyone else."""
    import uuid

    from kcnguard.bus import open_bus
    from kcnguard.records import DeadLetter
    from kcnguard.topics import DEAD_LETTER

    shown = 0
    with open_bus() as bus, bus.subscribe(f"inspect-{uuid.uuid4().hex[:8]}", [DEAD_LETTER]) as consumer:
        while shown < args.limit:
            batch = consumer.poll(min(500, args.limit - shown), timeout=2.0)
            if not batch:
                break
            for message in batch:
                letter = DeadLetter.model_validate_json(message.value)
                out = letter.model_dump(mode="json", exclude={"raw_b64"})
                print(json.dumps(out, ensure_ascii=False))
                shown += 1
    print(f"# {shown} dead letters", file=sys.stderr)
    return 0


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from crawler.offline.extract import run

    return run(args.file, args.url, args.marketplace, out=sys.stdout, err=sys.stderr)


def cmd_settings(_args: argparse.Namespace, settings: Settings) -> int:
    for name, value in settings.model_dump(mode="json").items():
        shown = "***" if name == "admin_key" and value else value
        print(f"KCNGUARD_{name.upper()}={shown}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kcnguard", description="KCN Guard: counterfeit listing monitoring")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the main job: demo marketplace, API, crawler, classifier, scheduler")
    run.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the first flagged listings")
    run.add_argument("--exit-after-flagged", action="store_true", help="stop once flagged listings are visible")
    run.set_defaults(func=cmd_run)

    sub.add_parser("api", help="serve the API and web portal").set_defaults(func=cmd_api)
    sub.add_parser("crawler", help="run crawl jobs from the bus").set_defaults(func=_run_service("crawler.service"))
    sub.add_parser("classifier", help="score raw listings from the bus").set_defaults(
        func=_run_service("classifier.service")
    )
    from classifier.commands import add_parsers as add_model_parsers  # `train` and `model`; sklearn loads on use

    add_model_parsers(sub)
    from classifier.score_file import add_parser as add_score_parser  # `score`; sklearn loads on use

    add_score_parser(sub)
    sub.add_parser("scheduler", help="send crawl jobs for every brand, on its interval").set_defaults(
        func=_run_service("crawler.scheduler")
    )
    sub.add_parser("webhooks", help="deliver case events to partner agencies' webhooks").set_defaults(
        func=_run_service("api.webhooks.delivery")
    )
    sub.add_parser("demo-marketplace", help="serve the offline demo marketplace").set_defaults(
        func=cmd_demo_marketplace
    )
    sub.add_parser("setup", help="create the store's indices and the bus's topics").set_defaults(func=cmd_setup)

    apikey = sub.add_parser("apikey", help="create an API key (printed once)")
    apikey.add_argument("action", choices=["create"])
    apikey.add_argument("--name", required=True)
    apikey.add_argument("--role", required=True, choices=["admin", "inspector", "enterprise", "partner"])
    apikey.add_argument("--owner", default=None, help="the enterprise (owner_id) or agency the key belongs to")
    apikey.set_defaults(func=cmd_apikey)

    user = sub.add_parser("user", help="create a person who logs in to the portal (password asked, or read)")
    user.add_argument("action", choices=["create"])
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=["admin", "inspector", "enterprise", "partner"])
    user.add_argument("--owner", default=None, help="the enterprise id or agency slug the person belongs to")
    user.add_argument("--display-name", default=None)
    user.add_argument("--password-file", default=None, help="read the password from this file's first line")
    user.set_defaults(func=cmd_user)

    brands = sub.add_parser("brands", help="register brands")
    brands.add_argument("action", choices=["load"])
    source = brands.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="a JSON file with one Brand or a list of them")
    source.add_argument("--demo", action="store_true", help="the demo marketplace's brands")
    brands.set_defaults(func=cmd_brands_load)

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

    dead = sub.add_parser("dead-letters", help="print quarantined records with their reasons")
    dead.add_argument("--limit", type=int, default=100)
    dead.set_defaults(func=cmd_dead_letters)

    extract = sub.add_parser("extract", help="print the listings in one saved response (FILE may be gzipped)")
    extract.add_argument("--url", required=True, help="the URL the response was fetched from")
    extract.add_argument(
        "--marketplace", default=None, help="force a parser: tiki, shopee, lazada, sendo, websosanh, webshop"
    )
    extract.add_argument("file", metavar="FILE")
    extract.set_defaults(func=cmd_extract)

    sub.add_parser("settings", help="print the settings in force").set_defaults(func=cmd_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format, service=args.command)
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
