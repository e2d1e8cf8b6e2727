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

from api.auth.enums import Role, Scope
from api.auth.models import Principal
from api.auth.service import require_scope
from api.board.models import Announcement, AnnouncementIn, ReadReceipt, ReadReceipts
from api.problems import Problem
from kcnguard.errors import ConflictError
from kcnguard.records.base import utcnow
from kcnguard.store import CREATE, Query, Store, schema
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
        known = store.docs.mget(schema.ENTERPRISES.name, audience)
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
    store.docs.put(schema.ANNOUNCEMENTS.name, item.announcement_id, item.model_dump(mode="json", exclude={"read_at"}))
    store.docs.refresh(schema.ANNOUNCEMENTS.name)
    log.info("announcement %s published by %s to %s", item.announcement_id, principal.actor, ",".join(audience))
    return item


def _enterprise(principal: Principal) -> str | None:
    return principal.owner_id if principal.role is Role.ENTERPRISE else None


def list_for(store: Store, principal: Principal, limit: int, offset: int) -> tuple[list[Announcement], int]:
    require_scope(principal, Scope.ANNOUNCEMENTS_READ)
    enterprise = _enterprise(principal)
    filters: dict[str, Any] = {"audience": [ALL, enterprise]} if enterprise else {}
    query = Query(filters=filters, sort=[("published_at", "desc")], size=limit, offset=offset)
    page = store.docs.search(schema.ANNOUNCEMENTS.name, query)
    items = [Announcement.model_validate(d.body) for d in page.docs]
    if enterprise and items:
        reads = store.docs.mget(
            schema.ANNOUNCEMENT_READS.name, [_read_id(a.announcement_id, enterprise) for a in items]
        )
        items = [
            a.model_copy(update={"read_at": _when(reads[r].body["read_at"])})
            if (r := _read_id(a.announcement_id, enterprise)) in reads
            else a
            for a in items
        ]
    return items, page.total


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _read_id(announcement_id: str, enterprise_id: str) -> str:
    return f"{announcement_id}|{enterprise_id}"


def open_one(store: Store, principal: Principal, announcement_id: str) -> Announcement:
    """The announcement; for an enterprise it must be addressed to it, and the first opening is recorded."""
    require_scope(principal, Scope.ANNOUNCEMENTS_READ)
    doc = store.docs.get(schema.ANNOUNCEMENTS.name, announcement_id) if len(announcement_id) <= 64 else None
    if doc is None:
        raise not_found(announcement_id)
    item = Announcement.model_validate(doc.body)
    enterprise = _enterprise(principal)
    if enterprise is None:
        return item
    if ALL not in item.audience and enterprise not in item.audience:
        raise not_found(announcement_id)
    now = date_value(utcnow())
    receipt = {
        "announcement_id": announcement_id,
        "enterprise_id": enterprise,
        "read_at": now,
        "read_by": principal.actor,
    }
    try:
        store.docs.put(
            schema.ANNOUNCEMENT_READS.name, _read_id(announcement_id, enterprise), receipt, if_version=CREATE
        )
        log.info("announcement %s read by %s", announcement_id, principal.actor)
    except ConflictError:
        first = store.docs.get(schema.ANNOUNCEMENT_READS.name, _read_id(announcement_id, enterprise))
        now = first.body["read_at"] if first else now
    return item.model_copy(update={"read_at": _when(now)})


def receipts(store: Store, principal: Principal, announcement_id: str) -> ReadReceipts:
    require_scope(principal, Scope.BOARD_READ)
    doc = store.docs.get(schema.ANNOUNCEMENTS.name, announcement_id) if len(announcement_id) <= 64 else None
    if doc is None:
        raise not_found(announcement_id)
    audience = doc.body["audience"]
    if ALL in audience:
        page = store.docs.search(schema.ENTERPRISES.name, Query(sort=[("enterprise_id", "asc")], size=MAX_ENTERPRISES))
        names = {d.id: d.body.get("name") for d in page.docs}
    else:
        found = store.docs.mget(schema.ENTERPRISES.name, audience)
        names = {e: (found[e].body.get("name") if e in found else None) for e in audience}
    reads = store.docs.mget(schema.ANNOUNCEMENT_READS.name, [_read_id(announcement_id, e) for e in names])
    read, unread = [], []
    for enterprise_id, name in sorted(names.items()):
        r = reads.get(_read_id(announcement_id, enterprise_id))
        receipt = ReadReceipt(
            enterprise_id=enterprise_id,
            name=name,
            read_at=r.body["read_at"] if r else None,
            read_by=r.body.get("read_by") if r else None,
        )
        (read if r else unread).append(receipt)
    return ReadReceipts(announcement_id=announcement_id, read=read, unread=unread)
