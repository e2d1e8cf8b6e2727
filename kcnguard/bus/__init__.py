"""The bus: `open_bus(url)` picks the backend by the URL's scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from kcnguard.bus.base import Bus, Consumer, Message

__all__ = ["Bus", "Consumer", "Message", "embedded_bus_file", "open_bus"]


def embedded_bus_file(url: str, namespace: str, data_dir: Path) -> Path:
    """The SQLite file an embedded:// URL names; `embedded://` alone is the namespace's file in data_dir."""
    return Path(url[len("embedded://") :] or data_dir / f"{namespace}-bus.sqlite3")


def open_bus(url: str | None = None, namespace: str | None = None, data_dir: Path | None = None) -> Bus:
    from kcnguard.settings import get_settings

    settings = get_settings()
    url = url or settings.bus_url
    namespace = namespace or settings.namespace
    scheme = urlparse(url).scheme
    if scheme == "embedded":
        from kcnguard.bus.embedded import EmbeddedBus

        path = embedded_bus_file(url, namespace, data_dir or settings.data_dir)
        return EmbeddedBus(path, namespace=namespace, max_poll_interval=settings.worker_max_poll_seconds)
    if scheme == "kafka":
        from kcnguard.bus.kafka import KafkaBus
        from kcnguard.transport import kafka_options

        return KafkaBus(
            url.split("://", 1)[1].rstrip("/"),
            namespace=namespace,
            session_timeout=settings.kafka_session_timeout_seconds,
            heartbeat_interval=settings.kafka_heartbeat_seconds,
            max_poll_interval=settings.worker_max_poll_seconds,
            instance_id=settings.kafka_instance_id,
            security=kafka_options(settings),
        )
    raise ValueError(f"unknown bus URL {url!r}: use embedded://[/path] or kafka://host:9092")
