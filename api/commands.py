"""`kcnguard api`, `kcnguard apikey create` and `kcnguard user create`, wired into the launcher."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kcnguard.settings import Settings

ROLES = ["admin", "inspector", "enterprise", "partner"]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("api", help="serve the API and web portal").set_defaults(func=cmd_api)

    apikey = sub.add_parser("apikey", help="create an API key (printed once)")
    apikey.add_argument("action", choices=["create"])
    apikey.add_argument("--name", required=True)
    apikey.add_argument("--role", required=True, choices=ROLES)
    apikey.add_argument("--owner", default=None, help="the enterprise (owner_id) or agency the key belongs to")
    apikey.set_defaults(func=cmd_apikey)

    user = sub.add_parser("user", help="create a person who logs in to the portal (password asked, or read)")
    user.add_argument("action", choices=["create"])
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=ROLES)
    user.add_argument("--owner", default=None, help="the enterprise id or agency slug the person belongs to")
    user.add_argument("--display-name", default=None)
    user.add_argument("--password-file", default=None, help="read the password from this file's first line")
    user.set_defaults(func=cmd_user)


def cmd_api(_args: argparse.Namespace, settings: Settings) -> int:
    import gc

    import uvicorn

    from api.main import create_app
    from kcnguard.secret_keys import WeakSecret

    try:
        app = create_app(settings)
    except WeakSecret as refused:
        print(f"lỗi / error: {refused}", file=sys.stderr)
        return 2
    # The app's routes, models and schemas are ~100,000 long-lived objects: every full collection walked them
    # all, 30-50 ms in which no request was answered (the whole of the API's p99 at 100 requests/s, bench/api.py).
    # Frozen, they are left out of collections; what requests allocate is still collected.
    gc.collect()
    gc.freeze()
    uvicorn.run(app, **uvicorn_options(settings))
    return 0


def trusted_proxies(settings: Settings) -> list[str]:
    return [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `kcnguard api` serves: X-Forwarded-Proto/-For believed only from KCNGUARD_TRUSTED_PROXIES."""
    proxies = trusted_proxies(settings)
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_level": settings.log_level.lower(),
        # Off without proxies: uvicorn would otherwise trust 127.0.0.1 (or $FORWARDED_ALLOW_IPS) by default.
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or [],
    }


def cmd_apikey(args: argparse.Namespace, settings: Settings) -> int:
    from api.collections import COLLECTIONS
    from api.keys import create_key
    from kcnguard.store import open_store

    store = open_store(collections=COLLECTIONS)
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
    from api.collections import COLLECTIONS
    from api.problems import Problem
    from kcnguard.store import open_store

    try:
        password = _read_password(args)
    except (OSError, IndexError, ValueError) as exc:
        print(f"lỗi / error: no password: {exc}", file=sys.stderr)
        return 2
    store = open_store(collections=COLLECTIONS)
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
