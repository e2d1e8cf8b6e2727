"""Getting a deployment's backends ready: the store's tables or indices and the bus's topics."""

from __future__ import annotations

from api.collections import COLLECTIONS as API_COLLECTIONS
from kcnguard.bus import open_bus
from kcnguard.settings import Settings
from kcnguard.store import open_store


def prepare_backends(settings: Settings) -> None:
    """Create what the services expect to find (idempotent; every service may call it at start)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store_url, settings.namespace, settings.data_dir)
    try:
        # The shared collections, and the API's own: `kcnguard setup` leaves nothing for a first request to create.
        store.setup(API_COLLECTIONS)
    finally:
        store.close()
    with open_bus(settings.bus_url, settings.namespace, settings.data_dir) as bus:
        bus.ensure_topics()
