"""The Elasticsearch document store: an index per collection, mapped from its declaration (kcnguard.store.schema).

Two fields are added to every document and stripped on read: `kcnguard_id` (a keyword copy of the
id, because `_id` is not sortable in 8.x and results need a stable tie order) and `kcnguard_text`
(the collection's text fields folded by kcnguard.store.words, matched with the plain whitespace
analyzer). Folding before indexing, rather than with an asciifolding analyzer, makes search match
exactly as on SQLite on any Elasticsearch-8-protocol server, including ones whose custom analyzers
differ (noida-db's pattern tokenizer, for one, splits on "đ" and "ư").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TransportError
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError

from kcnguard.errors import StoreUnavailable
from kcnguard.store import checked, schema
from kcnguard.store.base import CREATE, Capabilities, Doc, DocumentStore, Page, Query, Write, WriteResult
from kcnguard.store.schema import Field, Kind

log = logging.getLogger(__name__)

ID_FIELD = "kcnguard_id"
TEXT_FIELD = "kcnguard_text"
_HIDDEN = (ID_FIELD, TEXT_FIELD)

# Index names: lowercase, no characters Elasticsearch forbids, not starting with - _ +.
_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

# Exact index patterns cannot overlap each other; the priority beats built-in templates such as logs-*-*.
TEMPLATE_PRIORITY = 500

# Elasticsearch shows writes to search after its refresh interval (1 s by default), and a little later under load.
SEARCH_SETTLE_SECONDS = 2.0

# Keyword copies of text fields for sorting and exact filters; long enough for any title a record allows.
RAW_IGNORE_ABOVE = 2048

# One bulk request normally; very large batches are cut so no request nears http.max_content_length.
_BULK_MAX_BYTES = 20_000_000
_BULK_MAX_ITEMS = 2000
_MGET_CHUNK = 1000

T = TypeVar("T")


def _field_mapping(f: Field) -> dict[str, Any]:
    if f.kind is Kind.TEXT:
        return {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": RAW_IGNORE_ABOVE}}}
    if f.kind is Kind.FLOAT:
        return {"type": "double"}  # prices in VND reach billions: float would round them
    return {"type": f.kind.value}


def mapping(coll: schema.Collection) -> dict[str, Any]:
    """The collection's mapping: declared fields only, nested by their dotted paths; nothing dynamic."""
    properties: dict[str, Any] = {
        ID_FIELD: {"type": "keyword"},
        TEXT_FIELD: {"type": "text", "analyzer": "whitespace"},
    }
    for f in coll.fields.values():
        *parents, leaf = f.path.split(".")
        level = properties
        for step in parents:
            level = level.setdefault(step, {"properties": {}})["properties"]
        level[leaf] = _field_mapping(f)
    return {"dynamic": False, "properties": properties}


def _es_path(f: Field) -> str:
    return f"{f.path}.raw" if f.kind is Kind.TEXT else f.path


def _version(seq_no: int, primary_term: int) -> str:
    return f"{seq_no}:{primary_term}"


def _parse_version(version: str) -> tuple[int, int] | None:
    seq, sep, term = version.partition(":")
    if not sep or not seq.isdigit() or not term.isdigit():
        return None
    return int(seq), int(term)


class ElasticDocumentStore(DocumentStore):
    def __init__(
        self,
        url: str,
        namespace: str = "kcnguard",
        timeout: float = 10.0,
        *,
        ca_certs: str | None = None,
        api_key: str | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        namespace = namespace.lower()
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace {namespace!r} must be 1-64 lowercase letters, digits, '_', '.' or '-'")
        self.url = url
        self.namespace = namespace
        self.timeout = timeout
        # Bounded timeouts and few retries: a server that is down must surface as StoreUnavailable
        # quickly, so the worker's own backoff takes over instead of a hung request.
        # TLS and credentials come from kcnguard.transport.elasticsearch_options; unset ones stay the client's defaults.
        auth = {
            key: value
            for key, value in (("ca_certs", ca_certs), ("api_key", api_key), ("basic_auth", basic_auth))
            if value
        }
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=1, retry_on_timeout=False, **auth)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(search_visible_after_seconds=SEARCH_SETTLE_SECONDS)

    def index(self, collection: str) -> str:
        return self._index_of(self.collection(collection))

    def _index_of(self, coll: schema.Collection) -> str:
        return f"{self.namespace}-{coll.name}".lower()

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        try:
            yield
        except (TransportConnectionError, ConnectionTimeout) as exc:
            raise StoreUnavailable(
                f"không kết nối được Elasticsearch {self.url} ({what}): {exc} / cannot reach Elasticsearch at "
                f"{self.url}: check the server is running and KCNGUARD_STORE_URL points at it"
            ) from exc
        except ApiError as exc:
            kind = _error_type(exc)
            if kind == "index_not_found_exception":
                raise StoreUnavailable(
                    f"chưa khởi tạo kho: chạy `kcnguard setup` / Elasticsearch index missing ({what}): {exc}; "
                    "run setup() first"
                ) from exc
            if exc.meta.status in (429, 502, 503, 504):
                raise StoreUnavailable(f"Elasticsearch {self.url} busy or unavailable ({what}): {exc}") from exc
            raise
        except TransportError as exc:
            raise StoreUnavailable(f"Elasticsearch {self.url} ({what}): {exc}") from exc

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        with self._guard(what):
            return fn()

    # Schema ---------------------------------------------------------------------------------

    def _create(self, collections: Sequence[schema.Collection]) -> None:
        for coll in collections:
            name = self._index_of(coll)
            body = mapping(coll)
            self._call(
                "setup",
                lambda name=name, body=body: self.client.indices.put_index_template(
                    name=name, index_patterns=[name], priority=TEMPLATE_PRIORITY, template={"mappings": body}
                ),
            )
            try:
                self._call("setup", lambda name=name: self.client.indices.create(index=name))
            except BadRequestError as exc:
                # Another process created it between our template and our create: that is the goal anyway.
                if _error_type(exc) != "resource_already_exists_exception":
                    raise
            # An index made by an older version gains newly declared fields; existing ones never change type.
            self._call(
                "setup",
                lambda name=name, body=body: self.client.indices.put_mapping(index=name, properties=body["properties"]),
            )

    def drop(self) -> None:
        """Remove this namespace's indices and templates (tests, and an operator's reset)."""
        client = self.client.options(ignore_status=404)
        for coll in self.collections:
            name = self.index(coll.name)
            self._call("drop", lambda name=name: client.indices.delete(index=name))
            self._call("drop", lambda name=name: client.indices.delete_index_template(name=name))

    def ping(self) -> None:
        self._call("ping", self.client.info)

    # Reads ----------------------------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Doc | None:
        index = self.index(collection)
        try:
            hit = self._call("get", lambda: self.client.get(index=index, id=doc_id))
        except NotFoundError as exc:
            if _error_type(exc) is None:  # the document, not the index, is missing
                return None
            raise
        return _doc(hit)

    def mget(self, collection: str, ids: Sequence[str]) -> dict[str, Doc]:
        index = self.index(collection)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Doc] = {}
        for start in range(0, len(wanted), _MGET_CHUNK):
            chunk = wanted[start : start + _MGET_CHUNK]
            response = self._call("mget", lambda chunk=chunk: self.client.mget(index=index, ids=chunk))
            for hit in response["docs"]:
                if "error" in hit:
                    raise StoreUnavailable(f"Elasticsearch mget {index}/{hit.get('_id')}: {hit['error']}")
                if hit.get("found"):
                    found[hit["_id"]] = _doc(hit)
        return found

    def search(self, collection: str, query: Query) -> Page:
        q = checked.check(self.collection(collection), query)
        index = self.index(q.collection.name)
        sort: list[dict[str, Any]] = [
            {_es_path(s.field): {"order": "desc" if s.descending else "asc", "missing": "_last"}} for s in q.sort
        ]
        sort.append({ID_FIELD: {"order": "asc"}})
        response = self._call(
            "search",
            lambda: self.client.search(
                index=index,
                query=self._query(q),
                sort=sort,
                from_=q.offset,
                size=q.size,
                track_total_hits=q.count_up_to if q.count and q.count_up_to is not None else q.count,
                seq_no_primary_term=True,
            ),
        )
        hits = response["hits"]
        docs = [_doc(h) for h in hits["hits"]]
        if not q.count:
            return Page(docs, q.offset + len(docs))
        return Page(docs, int(hits["total"]["value"]), hits["total"].get("relation") == "gte")

    @staticmethod
    def _query(q: checked.CheckedQuery) -> dict[str, Any]:
        clauses: list[dict[str, Any]] = []
        for flt in q.filters:
            clauses.append({"terms": {_es_path(flt.field): flt.values}})
        for rng in q.ranges:
            bounds = {op: v for op, v in (("gte", rng.gte), ("lte", rng.lte)) if v is not None}
            if bounds:
                clauses.append({"range": {_es_path(rng.field): bounds}})
        if q.words is not None:
            if not q.words:
                clauses.append({"bool": {"must_not": {"match_all": {}}}})
            else:
                clauses.append({"match": {TEXT_FIELD: {"query": " ".join(q.words), "operator": "and"}}})
        return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}

    # Writes ---------------------------------------------------------------------------------

    def bulk_write(self, collection: str, writes: Sequence[Write]) -> list[WriteResult]:
        coll = self.collection(collection)
        index = self.index(coll.name)
        results: list[WriteResult | None] = [None] * len(writes)
        batches: list[list[tuple[int, dict[str, Any], str]]] = [[]]
        size = 0
        for position, w in enumerate(writes):
            problem = checked.write_problem(w.id, w.body)
            action: dict[str, Any] = {"_index": index, "_id": w.id}
            if problem is None and w.if_version not in (None, CREATE):
                parsed = _parse_version(w.if_version)
                if parsed is None:  # not a version this store ever gave out, so it cannot match
                    results[position] = WriteResult(w.id, False, error="conflict")
                    continue
                action["if_seq_no"], action["if_primary_term"] = parsed
            source = ""
            if problem is None:
                body = {**w.body, ID_FIELD: w.id}
                if coll.text_fields:
                    body[TEXT_FIELD] = checked.folded_text(coll, w.body)
                source, problem = checked.json_text(body)
            if problem is not None:
                results[position] = WriteResult(str(w.id), False, error=problem)
                continue
            header = {"create" if w.if_version == CREATE else "index": action}
            if batches[-1] and (len(batches[-1]) >= _BULK_MAX_ITEMS or size + len(source) > _BULK_MAX_BYTES):
                batches.append([])
                size = 0
            batches[-1].append((position, header, source))
            size += len(source)
        for batch in batches:
            if batch:
                self._send(batch, writes, results)
        return [r for r in results if r is not None]

    def _send(
        self,
        batch: list[tuple[int, dict[str, Any], str]],
        writes: Sequence[Write],
        results: list[WriteResult | None],
    ) -> None:
        # Bodies are serialised once, by us, so a bad one fails alone before the request, not the whole batch.
        operations: list[Any] = []
        for _, header, source in batch:
            operations.append(header)
            operations.append(source)
        # A full batch may take the server longer than a lookup; still bounded, so a stuck server surfaces.
        bulk = self.client.options(request_timeout=max(self.timeout, 60.0))
        response = self._call("bulk_write", lambda: bulk.bulk(operations=operations))
        busy: list[str] = []
        for (position, _, _), item in zip(batch, response["items"], strict=True):
            outcome = next(iter(item.values()))
            doc_id = writes[position].id
            status = outcome.get("status", 500)
            if status in (200, 201):
                results[position] = WriteResult(doc_id, True, _version(outcome["_seq_no"], outcome["_primary_term"]))
            elif status == 409:
                results[position] = WriteResult(doc_id, False, error="conflict")
            elif status in (429, 502, 503, 504):
                busy.append(f"{doc_id}: {outcome.get('error')}")
            else:
                error = outcome.get("error") or {}
                reason = error.get("reason", error) if isinstance(error, dict) else error
                results[position] = WriteResult(doc_id, False, error=f"{status}: {reason}")
        if busy:
            # The server refused for load, not for the document: retrying the batch later is the remedy, and
            # the items that did land are harmless to write again (the callers' writes are idempotent).
            raise StoreUnavailable(f"Elasticsearch rejected {len(busy)} writes for load, first: {busy[0]}")

    def delete(self, collection: str, doc_id: str) -> bool:
        index = self.index(collection)
        try:
            self._call("delete", lambda: self.client.delete(index=index, id=doc_id))
        except NotFoundError as exc:
            if _error_type(exc) is None:
                return False
            raise
        return True

    def refresh(self, collection: str) -> None:
        index = self.index(collection)
        self._call("refresh", lambda: self.client.indices.refresh(index=index))

    def close(self) -> None:
        self.client.close()


def _error_type(exc: ApiError) -> str | None:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


def _doc(hit: dict[str, Any]) -> Doc:
    body = {k: v for k, v in hit["_source"].items() if k not in _HIDDEN}
    return Doc(hit["_id"], body, _version(hit["_seq_no"], hit["_primary_term"]))
