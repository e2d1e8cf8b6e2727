"""The legal documents page as editable content: seeded once from data/documents.json, then the admin's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from api.board.models import Document, DocumentIn
from api.problems import Problem
from kcnguard.errors import ConflictError
from kcnguard.records.base import utcnow
from kcnguard.store import CREATE, Query, Store, schema

log = logging.getLogger(__name__)

SEED_FILE = Path(__file__).parent / "data" / "documents.json"
# The page shows them all; a Board keeps tens, and the list is capped like every other list.
MAX_DOCUMENTS = 100


def seed(store: Store, path: Path = SEED_FILE) -> int:
    """Write every seed document that is not there yet (an edited one is never overwritten); returns how many."""
    written = 0
    for item in json.loads(path.read_text(encoding="utf-8"))["documents"]:
        doc = Document.model_validate(item)
        try:
            store.docs.put(schema.DOCUMENTS.name, doc.doc_id, _body(doc), if_version=CREATE)
            written += 1
        except ConflictError:
            continue
    if written:
        store.docs.refresh(schema.DOCUMENTS.name)
        log.info("seeded %d legal documents", written)
    return written


def _body(doc: Document) -> dict[str, object]:
    body = doc.model_dump(mode="json")
    # `order` and `issued_on` are what the page sorts and filters by.
    return body


def not_found(doc_id: str) -> Problem:
    return Problem(404, "document-not-found", f"Không có văn bản '{doc_id}'.", f"No document '{doc_id}'.")


def list_documents(store: Store) -> list[Document]:
    page = store.docs.search(schema.DOCUMENTS.name, Query(sort=[("order", "asc")], size=MAX_DOCUMENTS))
    return [Document.model_validate(d.body) for d in page.docs]


def get_document(store: Store, doc_id: str) -> Document:
    doc = store.docs.get(schema.DOCUMENTS.name, doc_id)
    if doc is None:
        raise not_found(doc_id)
    return Document.model_validate(doc.body)


def put_document(store: Store, doc_id: str, body: DocumentIn, actor: str) -> Document:
    current = store.docs.get(schema.DOCUMENTS.name, doc_id)
    doc = Document(
        **body.model_dump(),
        doc_id=doc_id,
        seed=bool(current and current.body.get("seed")),
        updated_at=utcnow(),
        updated_by=actor,
    )
    store.docs.put(schema.DOCUMENTS.name, doc_id, _body(doc))
    store.docs.refresh(schema.DOCUMENTS.name)
    log.info("legal document %s %s by %s", doc_id, "edited" if current else "added", actor)
    return doc
