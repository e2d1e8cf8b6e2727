"""Serving a listing's stored evidence (the raw page), only to callers who may see that listing."""

from __future__ import annotations

from api.auth.models import Principal
from api.listings.service import listing_detail as stored_listing_detail
from api.problems import Problem
from kcnguard.errors import NotFound
from kcnguard.evidence import EvidenceError, EvidenceStore
from kcnguard.store import Query, Store


def _not_found(digest: str) -> Problem:
    return Problem(
        404,
        "evidence-not-found",
        f"Không có bằng chứng '{digest[:16]}…' mà tài khoản này được xem.",
        f"No evidence '{digest[:16]}…' that this account may see.",
    )


def _listing_with(store: Store, digest: str, listing_key: str | None) -> str | None:
    """A listing whose current or earlier capture has this digest."""
    if listing_key:
        stored = store.get_listing(listing_key)
        if stored is None:
            return None
        digests = {stored.record.listing.evidence_digest, *(o.evidence_digest for o in stored.record.history)}
        return listing_key if digest in digests else None
    page = store.search_listings(Query(filters={"evidence_digest": digest}, size=1))
    return page.items[0].key if page.items else None


def evidence_bytes(
    store: Store, evidence: EvidenceStore, principal: Principal, digest: str, listing_key: str | None
) -> bytes:
    key = _listing_with(store, digest, listing_key)
    if key is None:
        raise _not_found(digest)
    try:
        stored_listing_detail(store, principal, key, "vi")  # the same visibility as the listing's page
    except Problem:
        raise _not_found(digest) from None
    try:
        return evidence.get(digest)
    except NotFound:
        raise _not_found(digest) from None
    except EvidenceError as exc:
        raise Problem(
            500,
            "evidence-corrupt",
            "Bản lưu bằng chứng không khớp mã băm (đã bị hỏng); hãy báo quản trị viên.",
            f"The stored evidence no longer matches its digest (corrupt): {exc}; tell an administrator.",
        ) from None
