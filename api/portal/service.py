"""What the portal pages show, read through the same services as the API."""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.models import Principal
from api.brands.service import visible_brands
from api.listings.models import FlaggedPage
from api.listings.service import flagged_visible
from kcnguard.records import Brand
from kcnguard.store import Store

PAGE_SIZE = 50
# Enough pages for any inspector's browsing; past it, the API's own paging is the tool.
MAX_PAGE = 200


@dataclass(frozen=True)
class FlaggedView:
    page: FlaggedPage
    brands: list[Brand]  # the brands to offer in the filter
    brand_names: dict[str, str]


def flagged_view(
    store: Store, principal: Principal, lang: str, page_number: int, q: str | None, brand_id: str | None
) -> FlaggedView:
    own = visible_brands(store, principal)
    brands = own if own is not None else store.list_brands(size=1000).items
    page = flagged_visible(
        store, principal, PAGE_SIZE, (page_number - 1) * PAGE_SIZE, q, lang, brand_id=brand_id or None
    )
    names = {b.brand_id: b.name for b in brands}
    for brand_id_on_page in {i.brand_id for i in page.items} - names.keys():
        brand = store.get_brand(brand_id_on_page)
        if brand is not None:
            names[brand.brand_id] = brand.name
    return FlaggedView(page=page, brands=brands, brand_names=names)
