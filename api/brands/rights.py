"""Who may claim a trademark, and the Board's check of the rights an enterprise claims for its brand.

A trademark number (with its office) belongs to one owner: a brand of another owner that holds it,
verified or still pending, blocks the registration with a 409 that names the number, never the owner.
A brand an enterprise registers itself starts pending and is neither crawled nor scored until an
inspector or admin verifies the claim; rejecting it frees its numbers for their real owner. A brand
the Board registers (or an administrator loads) is verified from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from api.auth.enums import Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.brands.models import IPVN_OFFICES
from api.problems import Problem
from kcnguard.cases import audit
from kcnguard.records import Brand, utcnow
from kcnguard.records.brand import RightsStatus, Trademark
from kcnguard.store import Store
from kcnguard.store.base import MAX_WINDOW

log = logging.getLogger(__name__)

_PAGE = 1000
# What the claim rests on: an enterprise changing any of these sends its brand back to be checked.
CLAIMED = ("owner_id", "owner_name", "name", "aliases", "trademarks")


def trademark_key(mark: Trademark) -> tuple[str, str]:
    """The office and number as the register knows them: case, spaces and the office's spelling do not matter."""
    office = mark.office.strip().casefold()
    office = "ip viet nam" if office in IPVN_OFFICES else " ".join(office.split())
    return office, "".join(mark.number.split()).casefold()


def _every_brand(store: Store) -> Iterator[Brand]:
    # Brands are few (a province's KCN enterprises); a registration reads them all rather than index numbers.
    offset = 0
    while offset < MAX_WINDOW:
        page = store.list_brands(size=min(_PAGE, MAX_WINDOW - offset), offset=offset)
        yield from page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def check_trademarks_free(store: Store, brand: Brand, holders: tuple[RightsStatus, ...]) -> None:
    """409 when another owner's brand in one of `holders` states already holds one of this brand's numbers."""
    wanted = {trademark_key(m): m for m in brand.trademarks}
    if not wanted:
        return
    for other in _every_brand(store):
        if other.owner_id == brand.owner_id or other.brand_id == brand.brand_id or other.rights_status not in holders:
            continue
        taken = [wanted[k] for k in (trademark_key(m) for m in other.trademarks) if k in wanted]
        if taken:
            mark = taken[0]
            raise Problem(
                409,
                "trademark-taken",
                f"Văn bằng số '{mark.number}' ({mark.office}) đã được đăng ký cho nhãn hiệu của một chủ sở hữu khác. "
                "Nếu quyền đó thuộc về quý doanh nghiệp, hãy liên hệ Ban Quản lý để được xác minh.",
                f"Trademark number '{mark.number}' ({mark.office}) is already registered to another owner's brand. "
                "If the rights are yours, ask the Management Board to verify them.",
                trademark={"number": mark.number, "office": mark.office},
            )


def status_for(principal: Principal, current: Brand | None, brand: Brand) -> RightsStatus:
    """The rights status a brand gets when this caller creates or changes it."""
    if not principal.owner_bound:
        # The Board's own registration needs no check by the Board; its edits keep the brand's status.
        return current.rights_status if current is not None else RightsStatus.VERIFIED
    if current is None:
        return RightsStatus.PENDING
    changed = any(getattr(current, f) != getattr(brand, f) for f in CLAIMED)
    return RightsStatus.PENDING if changed else current.rights_status


def verify(store: Store, principal: Principal, current: Brand, outcome: str, note: str) -> Brand:
    """Record the Board's finding; verifying a number another owner's verified brand holds is a 409."""
    require_scope(principal, Scope.REVIEW_DECIDE)
    status = RightsStatus(outcome)
    if status is RightsStatus.VERIFIED:
        check_trademarks_free(store, current, (RightsStatus.VERIFIED,))
    brand = current.model_copy(update={"rights_status": status, "updated_at": utcnow()})
    store.put_brand(brand)
    audit.append(
        store,
        principal.actor,
        f"brand.rights_{status}",
        f"brand:{brand.brand_id}",
        {"rights_status": str(current.rights_status)},
        {"rights_status": str(status)},
        note,
    )
    log.info("brand %s rights %s by %s", brand.brand_id, status, principal.actor)
    return brand
