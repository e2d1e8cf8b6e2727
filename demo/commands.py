"""`kcnguard demo-marketplace`: the offline demo marketplace, wired into the launcher."""

from __future__ import annotations

import argparse

from kcnguard.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("demo-marketplace", help="serve the offline demo marketplace").set_defaults(
        func=cmd_demo_marketplace
    )


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
