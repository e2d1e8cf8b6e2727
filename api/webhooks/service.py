"""Registering partner webhooks, and the checks every URL must pass (at registration and at each delivery).

A URL is allowed only when its host is on the admin's allowlist: KCNGUARD_WEBHOOK_ALLOWED_HOSTS
(exact hosts or `*.domain`) or the hosts the admin listed for that agency. Private, loopback and
link-local addresses are refused even then, unless KCNGUARD_WEBHOOK_ALLOW_PRIVATE is set or the
address itself is listed (a test's 127.0.0.1): so a partner cannot be used to reach the Board's
own network. The secret is made here, stored (signing needs it) and shown once.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from api.agencies.service import require_registered
from api.problems import Problem
from api.webhooks.models import Delivery, WebhookCreated, WebhookIn, WebhookOut
from kcnguard.records.base import utcnow
from kcnguard.settings import Settings
from kcnguard.store import Query, Store, schema

log = logging.getLogger(__name__)

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []


def _refuse(vi: str, en: str) -> Problem:
    return Problem(422, "webhook-url-refused", vi, en)


def _host_listed(host: str, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif host == entry:
            return True
    return False


def settings_hosts(settings: Settings) -> list[str]:
    return [h.strip().lower() for h in settings.webhook_allowed_hosts.split(",") if h.strip()]


def check_url(
    url: str, allowed: Iterable[str], allow_private: bool, resolver: Resolver | None = None
) -> tuple[str, list[str]]:
    """The URL's host and the addresses it resolves to, once it passes; else a 422 problem saying why."""
    allowed = list(allowed)
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise _refuse(
            f"Địa chỉ webhook '{url[:200]}' phải là URL https:// đầy đủ.",
            f"The webhook address '{url[:200]}' must be a full https:// URL.",
        )
    if parts.username or parts.password:
        raise _refuse("URL webhook không được chứa tên/mật khẩu.", "A webhook URL must not carry a user or password.")
    if not _host_listed(host, allowed):
        raise _refuse(
            f"Máy chủ '{host}' không nằm trong danh sách được quản trị viên cho phép "
            "(KCNGUARD_WEBHOOK_ALLOWED_HOSTS hoặc allowed_hosts của cơ quan).",
            f"The host '{host}' is not on the admin's allowlist "
            "(KCNGUARD_WEBHOOK_ALLOWED_HOSTS or the agency's allowed_hosts).",
        )
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = (resolver or resolve)(host)
    if not addresses:
        raise _refuse(f"Không phân giải được tên máy '{host}'.", f"The host name '{host}' does not resolve.")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        inside = not ip.is_global  # private, loopback, link-local (cloud metadata), reserved, shared
        if inside and not allow_private and not _host_listed(address, allowed):
            raise _refuse(
                f"'{host}' trỏ tới địa chỉ nội bộ {address}; chỉ được phép khi quản trị viên ghi rõ địa chỉ đó "
                "hoặc bật KCNGUARD_WEBHOOK_ALLOW_PRIVATE.",
                f"'{host}' points to the private address {address}; allowed only when the admin lists that "
                "address or sets KCNGUARD_WEBHOOK_ALLOW_PRIVATE.",
            )
    if parts.scheme == "http" and any(ipaddress.ip_address(a).is_global for a in addresses):
        raise _refuse("Webhook ra Internet phải dùng https://.", "A webhook to a public address must use https://.")
    return host, addresses


def _out(body: dict[str, Any]) -> WebhookOut:
    return WebhookOut.model_validate({k: v for k, v in body.items() if k != "secret"})


def register(
    store: Store, settings: Settings, body: WebhookIn, actor: str, resolver: Resolver | None = None
) -> WebhookCreated:
    require_registered(store, [body.agency])
    hosts = [h.strip().lower() for h in body.allowed_hosts if h.strip()]
    check_url(body.url, [*settings_hosts(settings), *hosts], settings.webhook_allow_private, resolver)
    secret = "whsec_" + secrets.token_urlsafe(32)
    doc = {
        "agency": body.agency,
        "url": body.url.strip(),
        "allowed_hosts": hosts,
        "active": True,
        "created_at": utcnow().isoformat(),
        "created_by": actor,
        "secret": secret,
    }
    # One webhook per agency: registering again replaces the URL and the secret (a rotation).
    store.docs.put(schema.WEBHOOKS.name, body.agency, doc)
    store.docs.refresh(schema.WEBHOOKS.name)
    log.info("webhook for agency %s set to host %s by %s", body.agency, urlsplit(body.url).hostname, actor)
    return WebhookCreated.model_validate(doc)


def not_found(agency: str) -> Problem:
    return Problem(
        404, "webhook-not-found", f"Cơ quan '{agency}' chưa có webhook.", f"Agency '{agency}' has no webhook."
    )


def get(store: Store, agency: str) -> WebhookOut:
    doc = store.docs.get(schema.WEBHOOKS.name, agency)
    if doc is None:
        raise not_found(agency)
    return _out(doc.body)


def secret_of(store: Store, agency: str) -> tuple[dict[str, Any], str] | None:
    doc = store.docs.get(schema.WEBHOOKS.name, agency)
    if doc is None or not doc.body.get("active"):
        return None
    return doc.body, doc.body["secret"]


def list_webhooks(store: Store, limit: int, offset: int) -> tuple[list[WebhookOut], int]:
    page = store.docs.search(schema.WEBHOOKS.name, Query(sort=[("agency", "asc")], size=limit, offset=offset))
    return [_out(d.body) for d in page.docs], page.total


def remove(store: Store, agency: str, actor: str) -> None:
    if not store.docs.delete(schema.WEBHOOKS.name, agency):
        raise not_found(agency)
    store.docs.refresh(schema.WEBHOOKS.name)
    log.info("webhook for agency %s removed by %s", agency, actor)


def deliveries(
    store: Store, agency: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Delivery], int]:
    filters: dict[str, Any] = {}
    if agency:
        filters["agency"] = agency
    if status:
        filters["status"] = status
    query = Query(filters=filters, sort=[("updated_at", "desc")], size=limit, offset=offset)
    page = store.docs.search(schema.WEBHOOK_DELIVERIES.name, query)
    return [Delivery.model_validate(d.body) for d in page.docs], page.total
