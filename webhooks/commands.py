"""`kcnguard webhooks`: the delivery service, wired into the launcher."""

from __future__ import annotations

import argparse

from kcnguard.process import run_until_stopped
from kcnguard.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("webhooks", help="deliver case events to partner agencies' webhooks").set_defaults(func=cmd_webhooks)


def cmd_webhooks(_args: argparse.Namespace, settings: Settings) -> int:
    from webhooks.service import run

    return run_until_stopped(run, settings)
