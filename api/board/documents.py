"""The legal documents page as editable content: seeded once from data/documents.json, then the admin's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from api.audit.changes import record_change
from api.board.models import Document, DocumentIn
from api.board.store import documents
from api.problems import Problem
from kcnguard.errors import ConflictError
from kcnguard.records.base import utcnow
from kcnguard.store import Query, Store

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
            documents(store).create(doc)
            written += 1
        except ConflictError:
            continue
    if written:
        log.info("seeded %d legal documents", written)
    return written


def not_found(doc_id: str) -> Problem:
    return Problem(404, "document-not-found", f"Không có văn bản '{doc_id}'.", f"No document '{doc_id}'.")


def list_documents(store: Store) -> list[Document]:
    return documents(store).search(Query(sort=[("order", "asc")], size=MAX_DOCUMENTS)).items


def get_document(store: Store, doc_id: str) -> Document:
    doc = documents(store).get(doc_id)
    if doc is None:
        raise not_found(doc_id)
    return doc


def put_document(store: Store, doc_id: str, body: DocumentIn, actor: str) -> Document:
    current = documents(store).get(doc_id)
    doc = Document(
        **body.model_dump(),
        doc_id=doc_id,
        seed=bool(current and current.seed),
        updated_at=utcnow(),
        updated_by=actor,
    )
    documents(store).put(doc)
    action = "document.change" if current else "document.create"
    record_change(store, actor, action, f"document:{doc_id}", current, doc)
    log.info("legal document %s %s by %s", doc_id, "edited" if current else "added", actor)
    return doc
