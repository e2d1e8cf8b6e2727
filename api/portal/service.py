"""Small look-ups the portal's pages need beside the services' answers: names to show, choices to offer."""

from __future__ import annotations

from collections.abc import Iterable

from api.agencies.models import Agency
from api.agencies.service import list_agencies
from api.auth.models import Principal
from api.brands.service import visible_brands
from kcnguard.records import Brand
from kcnguard.store import Store

# The brand filter's choices; a province registers a few hundred brands at most.
MAX_BRAND_CHOICES = 1000
MAX_AGENCY_CHOICES = 200


def brand_choices(store: Store, principal: Principal) -> list[Brand]:
    """The brands this caller may filter by: its own for an enterprise, every brand for the Board's staff."""
    own = visible_brands(store, principal)
    return own if own is not None else store.list_brands(size=MAX_BRAND_CHOICES).items


def brand_names(store: Store, principal: Principal, brand_ids: Iterable[str]) -> dict[str, str]:
    """Display names for brand ids already shown to this caller (ids it may not see keep their id)."""
    names: dict[str, str] = {}
    for brand_id in set(brand_ids):
        brand = store.get_brand(brand_id)
        if brand is not None and principal.may_see_owner(brand.owner_id):
            names[brand_id] = brand.name
    return names


def agency_choices(store: Store) -> list[Agency]:
    agencies, _ = list_agencies(store, MAX_AGENCY_CHOICES, 0)
    return agencies
