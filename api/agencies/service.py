"""The agencies registry: the admin manages it; cases may be referred only to agencies in it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from api.agencies.models import Agency, AgencyIn
from api.agencies.store import agencies
from api.audit.changes import record_change
from api.problems import Problem
from api.registry import create_unique, same_id
from kcnguard.records.base import utcnow
from kcnguard.store import Query, Store

log = logging.getLogger(__name__)


def agency_not_found(slug: str) -> Problem:
    return Problem(404, "agency-not-found", f"Không có cơ quan '{slug}'.", f"No agency '{slug}'.")


def get_agency(store: Store, slug: str) -> Agency | None:
    return agencies(store).get(slug)


def register_agency(store: Store, body: AgencyIn | dict[str, Any], actor: str = "system") -> Agency:
    checked = body if isinstance(body, AgencyIn) else AgencyIn.model_validate(body)
    now = utcnow()
    agency = Agency(**checked.model_dump(), created_at=now, updated_at=now)
    taken = Problem(
        409,
        "agency-exists",
        f"Cơ quan '{agency.slug}' đã có; dùng PUT để sửa.",
        f"Agency '{agency.slug}' already exists; use PUT to change it.",
    )
    create_unique(agencies(store), agency, taken)
    record_change(store, actor, "agency.create", f"agency:{agency.slug}", None, agency)
    log.info("agency %s registered by %s", agency.slug, actor)
    return agency


def replace_agency(store: Store, slug: str, body: AgencyIn, actor: str) -> Agency:
    current = get_agency(store, slug)
    if current is None:
        raise agency_not_found(slug)
    same_id("agency-slug-mismatch", "slug", body.slug, slug)
    agency = Agency(**body.model_dump(), created_at=current.created_at, updated_at=utcnow())
    agencies(store).put(agency)
    record_change(store, actor, "agency.change", f"agency:{slug}", current, agency)
    log.info("agency %s replaced by %s", slug, actor)
    return agency


def list_agencies(store: Store, limit: int, offset: int, kind: str | None = None) -> tuple[list[Agency], int]:
    query = Query(filters={"kind": kind} if kind else {}, sort=[("slug", "asc")], size=limit, offset=offset)
    page = agencies(store).search(query)
    return page.items, page.total


def require_registered(store: Store, slugs: Sequence[str]) -> None:
    """Every agency named must be registered: a 422 naming the ones that are not."""
    found = agencies(store).get_bodies(slugs)
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise Problem(
            422,
            "unknown-agency",
            f"Không có cơ quan đã đăng ký: {', '.join(unknown)}; xem GET /v1/agencies.",
            f"Not registered agencies: {', '.join(unknown)}; see GET /v1/agencies.",
            unknown=unknown,
        )
