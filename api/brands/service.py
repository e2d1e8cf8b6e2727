"""Reading and writing brands on behalf of a caller, within what that caller may see."""

from __future__ import annotations

import logging

from api.audit.changes import record_change
from api.auth.models import Principal
from api.brands import rights
from api.brands.models import BrandInBase
from api.enterprises.service import require_registered
from api.problems import Problem
from kcnguard.errors import ConflictError
from kcnguard.records import Brand, utcnow
from kcnguard.records.brand import RightsStatus
from kcnguard.store import RecordPage, Store

log = logging.getLogger(__name__)

# A brand not yet rejected holds its trademark numbers against every other owner.
HOLDING = (RightsStatus.PENDING, RightsStatus.VERIFIED)
# An enterprise has a handful of brands; this bounds the "which brands are mine" lookup.
MAX_OWNED_BRANDS = 1000


def brand_not_found(brand_id: str) -> Problem:
    return Problem(
        404,
        "brand-not-found",
        f"Không tìm thấy nhãn hiệu '{brand_id}' (hoặc khóa API này không được xem nhãn hiệu đó).",
        f"No brand '{brand_id}' (or this API key may not see it).",
    )


def _check_owner(principal: Principal, owner_id: str) -> None:
    if not principal.may_see_owner(owner_id):
        raise Problem(
            403,
            "not-your-owner",
            f"Khóa API của doanh nghiệp '{principal.owner_id}' chỉ được quản lý nhãn hiệu của chính mình, "
            f"không phải của '{owner_id}'.",
            f"The key of enterprise '{principal.owner_id}' may only manage its own brands, not those of '{owner_id}'.",
        )


def create_brand(store: Store, principal: Principal, brand_in: BrandInBase) -> Brand:
    now = utcnow()
    brand = brand_in.to_brand(created_at=now, updated_at=now)
    _check_owner(principal, brand.owner_id)
    require_registered(store, brand.owner_id)
    if store.get_brand(brand.brand_id) is None:  # an existing id answers brand-exists below, before any clash
        rights.check_trademarks_free(store, brand, HOLDING)
    brand = brand.model_copy(update={"rights_status": rights.status_for(principal, None, brand)})
    try:
        # Create-only, so two registrations of one brand_id cannot silently overwrite each other.
        store.create_brand(brand)
    except ConflictError:
        raise Problem(
            409,
            "brand-exists",
            f"Nhãn hiệu '{brand.brand_id}' đã tồn tại; dùng PUT /v1/brands/{brand.brand_id} để sửa.",
            f"Brand '{brand.brand_id}' already exists; use PUT /v1/brands/{brand.brand_id} to change it.",
        ) from None
    record_change(store, principal.actor, "brand.create", f"brand:{brand.brand_id}", None, brand)
    log.info("brand %s created for owner %s by %s", brand.brand_id, brand.owner_id, principal.actor)
    return brand


def replace_brand(store: Store, principal: Principal, brand_id: str, brand_in: BrandInBase) -> Brand:
    current = get_visible_brand(store, principal, brand_id)
    brand = brand_in.to_brand(created_at=current.created_at, updated_at=utcnow())
    if brand.brand_id != brand_id:
        raise Problem(
            422,
            "brand-id-mismatch",
            f"brand_id trong nội dung ('{brand.brand_id}') khác với đường dẫn ('{brand_id}').",
            f"The body's brand_id ('{brand.brand_id}') differs from the path's ('{brand_id}').",
        )
    _check_owner(principal, brand.owner_id)
    if brand.owner_id != current.owner_id:
        require_registered(store, brand.owner_id)
    rights.check_trademarks_free(store, brand, HOLDING)
    brand = brand.model_copy(update={"rights_status": rights.status_for(principal, current, brand)})
    store.put_brand(brand)
    record_change(store, principal.actor, "brand.change", f"brand:{brand_id}", current, brand)
    log.info("brand %s replaced by %s", brand_id, principal.actor)
    return brand


def verify_brand(store: Store, principal: Principal, brand_id: str, outcome: str, note: str) -> Brand:
    return rights.verify(store, principal, get_visible_brand(store, principal, brand_id), outcome, note)


def get_visible_brand(store: Store, principal: Principal, brand_id: str) -> Brand:
    """The brand, or 404 when it is absent *or* belongs to another enterprise.

    Answering 404 rather than 403 for another owner's brand keeps brand ids from leaking:
    an enterprise cannot probe which brands its competitors have registered.
    """
    brand = store.get_brand(brand_id)
    if brand is None or not principal.may_see_owner(brand.owner_id):
        raise brand_not_found(brand_id)
    return brand


def list_brands(
    store: Store, principal: Principal, limit: int, offset: int, owner_id: str | None = None
) -> RecordPage[Brand]:
    narrowed = principal.owner_filter
    if narrowed is not None and owner_id not in (None, narrowed):
        return RecordPage([], 0)
    return store.list_brands(owner_id=narrowed or owner_id, size=limit, offset=offset)


def visible_brands(store: Store, principal: Principal) -> list[Brand] | None:
    """The brands an owner-bound caller may see, or None meaning every brand."""
    if principal.owner_filter is None:
        return None
    return store.list_brands(owner_id=principal.owner_filter, size=MAX_OWNED_BRANDS).items
