"""Reading flagged listings and stored listings, narrowed to the brands a caller may see."""

from __future__ import annotations

from collections.abc import Sequence

from api.auth.models import Principal
from api.brands.service import get_visible_brand, visible_brands
from api.listings.models import CaseRef, FlaggedListing, FlaggedPage, ListingDetail, ListingScore, ReasonOut
from api.problems import Problem
from kcnguard.records import Case, ScoredListing
from kcnguard.store import Query, RecordPage, Store
from kcnguard.store.words import query_words

# How many brands' scores one listing lookup reads; a listing matches few brands.
MAX_SCORES_PER_LISTING = 200


def search_text(q: str | None) -> str | None:
    """The search words, or a 422 problem for a search no backend will run (too many or too long words)."""
    if not q or not q.strip():
        return None
    try:
        query_words(q)
    except ValueError as exc:
        vi, _, en = str(exc).partition(" / ")
        raise Problem(422, "bad-search", vi.capitalize() + ".", (en or vi).capitalize() + ".") from None
    return q.strip()


def cases_for(store: Store, scored: Sequence[ScoredListing]) -> dict[str, CaseRef]:
    """The case of each (listing, brand), keyed by case id, in one round trip for the whole page.

    Read by id rather than searched, so a case opened a moment ago shows even before
    Elasticsearch's next refresh makes it searchable.
    """
    ids = [Case.make_id(s.listing.key, s.brand_id) for s in scored]
    if not ids:
        return {}
    return {i: CaseRef(case_id=i, state=v.record.state) for i, v in store.get_cases(ids).items()}


def _flagged_page(store: Store, page: RecordPage[ScoredListing], limit: int, offset: int, lang: str) -> FlaggedPage:
    cases = cases_for(store, page.items)
    items = [FlaggedListing.of(s, lang, cases.get(Case.make_id(s.listing.key, s.brand_id))) for s in page.items]
    return FlaggedPage(items=items, total=page.total, limit=limit, offset=offset, lang=lang)


def flagged_for_brand(
    store: Store, principal: Principal, brand_id: str, limit: int, offset: int, text: str | None, lang: str
) -> FlaggedPage:
    get_visible_brand(store, principal, brand_id)  # 404 for a brand this caller may not see
    page = store.flagged(brand_id=brand_id, size=limit, offset=offset, text=search_text(text))
    return _flagged_page(store, page, limit, offset, lang)


def flagged_visible(
    store: Store,
    principal: Principal,
    limit: int,
    offset: int,
    text: str | None,
    lang: str,
    brand_id: str | None = None,
) -> FlaggedPage:
    """Flagged listings across every brand the caller may see, highest score first."""
    if brand_id:
        return flagged_for_brand(store, principal, brand_id, limit, offset, text, lang)
    own = visible_brands(store, principal)
    filters: dict[str, object] = {"flagged": True}
    if own is not None:
        if not own:
            return FlaggedPage(items=[], total=0, limit=limit, offset=offset, lang=lang)
        filters["brand_id"] = [b.brand_id for b in own]
    page = store.search_scored(
        Query(filters=filters, text=search_text(text), sort=[("score", "desc")], size=limit, offset=offset)
    )
    return _flagged_page(store, page, limit, offset, lang)


def listing_detail(store: Store, principal: Principal, key: str, lang: str) -> ListingDetail:
    """A stored listing with its history, and its scores against the brands the caller may see.

    The rule for an enterprise: it sees a listing once the listing is *flagged* for one of its own
    brands, and then only its own brands' scores. A listing that merely scored low against one of its
    brands is a stranger's listing the classifier looked at, not a suspect of its: it answers exactly as
    a missing key does (same 404, same body but for the key), so no enterprise can probe which
    listings exist or which another enterprise's brands were matched against. A report it sent shows
    in its queue as the report itself, whatever the listing turns out to be.
    """
    filters: dict[str, object] = {"listing_key": key}
    own = visible_brands(store, principal)
    if own is not None:
        filters["brand_id"] = [b.brand_id for b in own] or ["\x00none"]
    scores = store.search_scored(Query(filters=filters, sort=[("score", "desc")], size=MAX_SCORES_PER_LISTING)).items
    stored = store.get_listing(key)
    if stored is None or (own is not None and not any(s.flagged for s in scores)):
        raise Problem(
            404,
            "listing-not-found",
            f"Không tìm thấy tin đăng '{key}' (hoặc khóa API này không được xem tin đó).",
            f"No listing '{key}' (or this API key may not see it).",
        )
    cases = cases_for(store, scores)
    record = stored.record
    return ListingDetail(
        key=record.key,
        status=record.status,
        first_seen_at=record.first_seen_at,
        last_seen_at=record.last_seen_at,
        removed_at=record.removed_at,
        listing=record.listing,
        history=record.history,
        scores=[
            ListingScore(
                brand_id=s.brand_id,
                score=s.score,
                flagged=s.flagged,
                model_version=s.model_version,
                scored_at=s.scored_at,
                reasons=[ReasonOut.of(r, lang) for r in sorted(s.reasons, key=lambda r: -abs(r.weight))],
                case=cases.get(Case.make_id(s.listing.key, s.brand_id)),
            )
            for s in scores
        ],
    )
