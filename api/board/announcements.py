"""Announcements from the Board to the zones' enterprises, and who has read each.

An enterprise sees the announcements addressed to it or to "all"; opening one writes a read
receipt keyed by (announcement, enterprise), so the first reading is the one kept. The Board
sees, for each announcement, the enterprises that read it and those that have not.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from api.audit.changes import record_change
from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.board.models import Announcement, AnnouncementIn, ReadReceipt, ReadReceipts
from api.board.store import AnnouncementRead, AnnouncementReads, announcements
from api.enterprises.store import enterprise_fields, enterprises
from api.problems import Problem
from kcnguard.records.base import utcnow
from kcnguard.store import Query, Store
from kcnguard.store.checked import date_value

log = logging.getLogger(__name__)

ALL = "all"
# Enterprises in one receipts answer; a province has hundreds, not tens of thousands.
MAX_ENTERPRISES = 5000


def not_found(announcement_id: str) -> Problem:
    return Problem(
        404,
        "announcement-not-found",
        f"Không có thông báo '{announcement_id[:80]}'.",
        f"No announcement '{announcement_id[:80]}'.",
    )


def publish(store: Store, principal: Principal, body: AnnouncementIn) -> Announcement:
    require_scope(principal, Scope.ANNOUNCEMENTS_WRITE)
    audience = [ALL] if ALL in body.audience else list(dict.fromkeys(body.audience))
    if audience != [ALL]:
        known = enterprises(store).get_bodies(audience)
        unknown = [e for e in audience if e not in known]
        if unknown:
            raise Problem(
                422,
                "unknown-enterprise",
                f"Không có doanh nghiệp: {', '.join(unknown)}.",
                f"No such enterprises: {', '.join(unknown)}.",
                unknown=unknown,
            )
    now = utcnow()
    item = Announcement(
        title=body.title,
        body=body.body,
        audience=audience,
        announcement_id=f"{now:%Y%m%d}-{uuid.uuid4().hex[:10]}",
        published_at=now,
        published_by=principal.actor,
    )
    announcements(store).put(item)
    record_change(store, principal.actor, "announcement.create", f"announcement:{item.announcement_id}", None, item)
    log.info("announcement %s published by %s to %s", item.announcement_id, principal.actor, ",".join(audience))
    return item


def _enterprise(principal: Principal) -> str | None:
    return principal.owner_id if principal.role is Role.ENTERPRISE else None


def list_for(store: Store, principal: Principal, limit: int, offset: int) -> tuple[list[Announcement], int]:
    require_scope(principal, Scope.ANNOUNCEMENTS_READ)
    enterprise = _enterprise(principal)
    filters: dict[str, Any] = {"audience": [ALL, enterprise]} if enterprise else {}
    query = Query(filters=filters, sort=[("published_at", "desc")], size=limit, offset=offset)
    page = announcements(store).search(query)
    items = page.items
    if enterprise and items:
        reads = AnnouncementReads(store).by(enterprise, [a.announcement_id for a in items])
        items = [
            a.model_copy(update={"read_at": _when(r.read_at)}) if (r := reads.get(a.announcement_id)) else a
            for a in items
        ]
    return items, page.total


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def open_one(store: Store, principal: Principal, announcement_id: str) -> Announcement:
    """The announcement; for an enterprise it must be addressed to it, and the first opening is recorded."""
    require_scope(principal, Scope.ANNOUNCEMENTS_READ)
    item = _announcement(store, announcement_id)
    enterprise = _enterprise(principal)
    if enterprise is None:
        return item
    if ALL not in item.audience and enterprise not in item.audience:
        raise not_found(announcement_id)
    receipt = AnnouncementRead(
        announcement_id=announcement_id, enterprise_id=enterprise, read_at=date_value(utcnow()), read_by=principal.actor
    )
    kept, now = AnnouncementReads(store).first_reading(receipt)
    if now:
        log.info("announcement %s read by %s", announcement_id, principal.actor)
    return item.model_copy(update={"read_at": _when(kept.read_at)})


def _announcement(store: Store, announcement_id: str) -> Announcement:
    found = announcements(store).get(announcement_id) if len(announcement_id) <= 64 else None
    if found is None:
        raise not_found(announcement_id)
    return found


def receipts(store: Store, principal: Principal, announcement_id: str) -> ReadReceipts:
    require_scope(principal, Scope.BOARD_READ)
    audience = _announcement(store, announcement_id).audience
    names: dict[str, Any]
    if ALL in audience:
        page = enterprises(store).search_bodies(Query(sort=[("enterprise_id", "asc")], size=MAX_ENTERPRISES))
        names = {body["enterprise_id"]: body.get("name") for body in page.items}
    else:
        found = enterprise_fields(store, audience, "name")
        names = {e: found.get(e) for e in audience}
    reads = AnnouncementReads(store).of(announcement_id, list(names))
    read, unread = [], []
    for enterprise_id, name in sorted(names.items()):
        r = reads.get(enterprise_id)
        receipt = ReadReceipt(
            enterprise_id=enterprise_id,
            name=name,
            read_at=r.read_at if r else None,
            read_by=r.read_by if r else None,
        )
        (read if r else unread).append(receipt)
    return ReadReceipts(announcement_id=announcement_id, read=read, unread=unread)
