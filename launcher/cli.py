"""The `kcnguard` command: the main job, every service's subcommands, and admin tasks that span services.

Each service registers its own subcommands (`<service>/commands.py`, `add_parsers`) and imports its
internals only when one of them runs; `kcnguard run` starts each service as its own process.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import api.commands
import classifier.commands
import crawler.commands
import demo.commands
import webhooks.commands
from kcnguard import logs
from kcnguard.settings import Settings, get_settings

# Subcommands that run a long-lived service; `kcnguard run` starts these, docker-compose too.
SERVICES = ("api", "crawler", "classifier", "scheduler", "demo-marketplace", "webhooks")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from launcher.mainjob import MainJob

    return MainJob(settings, wait_seconds=args.wait, exit_after_flagged=args.exit_after_flagged).run()


def cmd_setup(_args: argparse.Namespace, settings: Settings) -> int:
    from launcher.bootstrap import prepare_backends

    prepare_backends(settings)
    print(f"store {settings.store_url} and bus {settings.bus_url} ready (namespace {settings.namespace})")
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


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from kcnguard.backup import BackupError, backup

    try:
        folder = backup(settings, Path(args.into))
    except (BackupError, OSError) as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    print(f"đã sao lưu / backed up: {folder}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from kcnguard.backup import BackupError, restore, verify

    if args.verify_only:
        problems = verify(Path(args.folder))
        for problem in problems:
            print(problem, file=sys.stderr)
        print("toàn vẹn / intact" if not problems else f"{len(problems)} lỗi / problems")
        return 1 if problems else 0
    try:
        restored = restore(settings, Path(args.folder))
    except (BackupError, OSError) as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 1
    print(f"đã khôi phục / restored: {', '.join(restored) or 'nothing'}")
    return 0


def cmd_settings(_args: argparse.Namespace, settings: Settings) -> int:
    for name, value in settings.model_dump(mode="json").items():
        secret = name in ("admin_key", "secret_key") or name.endswith("_secret_key") or name.endswith("_access_key")
        shown = "***" if secret and value else value
        print(f"KCNGUARD_{name.upper()}={shown}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kcnguard", description="KCN Guard: counterfeit listing monitoring")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the main job: demo marketplace, API, crawler, classifier, scheduler")
    run.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the first flagged listings")
    run.add_argument("--exit-after-flagged", action="store_true", help="stop once flagged listings are visible")
    run.set_defaults(func=cmd_run)

    for service in (api.commands, crawler.commands, classifier.commands, webhooks.commands, demo.commands):
        service.add_parsers(sub)

    sub.add_parser("setup", help="create the store's indices and the bus's topics").set_defaults(func=cmd_setup)

    brands = sub.add_parser("brands", help="register brands")
    brands.add_argument("action", choices=["load"])
    source = brands.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="a JSON file with one Brand or a list of them")
    source.add_argument("--demo", action="store_true", help="the demo marketplace's brands")
    brands.set_defaults(func=cmd_brands_load)

    dead = sub.add_parser("dead-letters", help="print quarantined records with their reasons")
    dead.add_argument("--limit", type=int, default=100)
    dead.set_defaults(func=cmd_dead_letters)

    saved = sub.add_parser("backup", help="back up the embedded store, bus, evidence and models while they run")
    saved.add_argument("--into", required=True, help="the folder that receives a new dated backup folder")
    saved.set_defaults(func=cmd_backup)
    back = sub.add_parser("restore", help="check a backup's digests, then put it back (running services see it)")
    back.add_argument("folder", help="a folder made by `kcnguard backup`")
    back.add_argument("--verify-only", action="store_true", help="only check every file against the manifest")
    back.set_defaults(func=cmd_restore)

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
