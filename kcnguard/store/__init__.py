"""The store: `open_store(url)` picks the backend by the URL's scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from kcnguard.store.base import CREATE, Doc, DocumentStore, Page, Query, Write, WriteResult
from kcnguard.store.repository import ApiKey, RecordPage, Store, Versioned, hash_api_key

__all__ = [
    "CREATE",
    "ApiKey",
    "Doc",
    "DocumentStore",
    "Page",
    "Query",
    "RecordPage",
    "Store",
    "Versioned",
    "Write",
    "WriteResult",
    "hash_api_key",
    "open_document_store",
    "open_store",
]


def open_document_store(url: str, namespace: str = "kcnguard", data_dir: Path | None = None) -> DocumentStore:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        from kcnguard.store.sqlite import SqliteDocumentStore

        path = url[len("sqlite://") :]
        if not path:
            path = str((data_dir or Path(".kcnguard")) / f"{namespace}-store.sqlite3")
        return SqliteDocumentStore(Path(path), namespace=namespace)
    if scheme in ("elasticsearch", "es", "http", "https"):
        from kcnguard.store.elastic import ElasticDocumentStore

        real = url if scheme in ("http", "https") else "http://" + url.split("://", 1)[1]
        return ElasticDocumentStore(real, namespace=namespace)
    raise ValueError(f"unknown store URL {url!r}: use sqlite://[/path] or elasticsearch://host:9200")


def open_store(url: str | None = None, namespace: str | None = None, data_dir: Path | None = None) -> Store:
    """The store the settings name, unless the caller names one."""
    from kcnguard.settings import get_settings

    settings = get_settings()
    return Store(
        open_document_store(
            url or settings.store_url,
            namespace=namespace or settings.namespace,
            data_dir=data_dir or settings.data_dir,
        )
    )
