"""The store: `open_store(url)` picks the backend by the URL's scheme.

The typed Store (kcnguard.store.repository) is loaded on first use rather than here: the records
declare their collections with kcnguard.store.schema and the typed Store reads the records, so
either package may be imported first.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from kcnguard.store.api_keys import ApiKey, hash_api_key
from kcnguard.store.base import CREATE, Capabilities, Doc, DocumentStore, Page, Query, Write, WriteResult
from kcnguard.store.schema import Collection
from kcnguard.store.table import RecordPage, RecordTable, Versioned

if TYPE_CHECKING:
    from kcnguard.store.repository import Store

__all__ = [
    "CREATE",
    "ApiKey",
    "Capabilities",
    "Collection",
    "Doc",
    "DocumentStore",
    "Page",
    "Query",
    "RecordPage",
    "RecordTable",
    "Store",
    "Versioned",
    "Write",
    "WriteResult",
    "hash_api_key",
    "open_document_store",
    "open_store",
    "sqlite_store_file",
]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from kcnguard.store.repository import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sqlite_store_file(url: str, namespace: str, data_dir: Path | None) -> Path:
    """The SQLite file a sqlite:// URL names; `sqlite://` alone is the namespace's file in data_dir."""
    return Path(url[len("sqlite://") :] or (data_dir or Path(".kcnguard")) / f"{namespace}-store.sqlite3")


def open_document_store(url: str, namespace: str = "kcnguard", data_dir: Path | None = None) -> DocumentStore:
    """The backend the URL names, knowing the collections every deployment has (repository.COLLECTIONS)."""
    from kcnguard.store.repository import COLLECTIONS

    scheme = urlparse(url).scheme
    docs: DocumentStore
    if scheme == "sqlite":
        from kcnguard.store.sqlite import SqliteDocumentStore

        docs = SqliteDocumentStore(sqlite_store_file(url, namespace, data_dir), namespace=namespace)
    elif scheme in ("elasticsearch", "es", "http", "https"):
        from kcnguard.settings import get_settings
        from kcnguard.store.elastic import ElasticDocumentStore
        from kcnguard.transport import elasticsearch_options

        real = url if scheme in ("http", "https") else "http://" + url.split("://", 1)[1]
        docs = ElasticDocumentStore(real, namespace=namespace, **elasticsearch_options(get_settings(), real))
    else:
        raise ValueError(f"unknown store URL {url!r}: use sqlite://[/path] or elasticsearch://host:9200")
    docs.know(COLLECTIONS)
    return docs


def open_store(
    url: str | None = None,
    namespace: str | None = None,
    data_dir: Path | None = None,
    collections: Iterable[Collection] = (),
) -> Store:
    """The store the settings name, unless the caller names one; `collections` adds a service's own."""
    from kcnguard.settings import get_settings
    from kcnguard.store.repository import Store

    settings = get_settings()
    docs = open_document_store(
        url or settings.store_url,
        namespace=namespace or settings.namespace,
        data_dir=data_dir or settings.data_dir,
    )
    return Store(docs, collections)
