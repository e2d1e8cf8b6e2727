"""`kcnguard webhooks`: the delivery service, wired into the launcher."""

from __future__ import annotations

import argparse

from kcnguard.process import run_until_stopped
from kcnguard.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("webhooks", help="deliver case events to partner agencies' webhooks").set_defaults(func=cmd_webhooks)


def cmd_webhooks(_args: argparse.Namespace, settings: Settings) -> int:
    import sys

    from kcnguard.secret_keys import WeakSecret, secret_key
    from webhooks.service import run

    try:
        secret_key(settings)  # it unseals the signing secrets: refuse to start without a usable one
    except WeakSecret as refused:
        print(f"lỗi / error: {refused}", file=sys.stderr)
        return 2
    return run_until_stopped(run, settings)
