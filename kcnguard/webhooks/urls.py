"""The checks every webhook URL must pass, at registration and again at each delivery.

A URL is allowed only when its host is on the admin's allowlist: KCNGUARD_WEBHOOK_ALLOWED_HOSTS
(exact hosts or `*.domain`) or the hosts the admin listed for that agency. Private, loopback and
link-local addresses are refused even then, unless KCNGUARD_WEBHOOK_ALLOW_PRIVATE is set or the
address itself is listed (a test's 127.0.0.1): so a partner cannot be used to reach the Board's
own network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from kcnguard.errors import KcnGuardError
from kcnguard.settings import Settings

Resolver = Callable[[str], list[str]]


class URLRefused(KcnGuardError):
    """Why a webhook URL is not allowed, in Vietnamese and English."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


def resolve(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError):
        return []


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
    """The URL's host and the addresses it resolves to, once it passes; else URLRefused saying why."""
    allowed = list(allowed)
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise URLRefused(
            f"Địa chỉ webhook '{url[:200]}' phải là URL https:// đầy đủ.",
            f"The webhook address '{url[:200]}' must be a full https:// URL.",
        )
    if parts.username or parts.password:
        raise URLRefused(
            "URL webhook không được chứa tên/mật khẩu.", "A webhook URL must not carry a user or password."
        )
    if not _host_listed(host, allowed):
        raise URLRefused(
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
        raise URLRefused(f"Không phân giải được tên máy '{host}'.", f"The host name '{host}' does not resolve.")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        inside = not ip.is_global  # private, loopback, link-local (cloud metadata), reserved, shared
        if inside and not allow_private and not _host_listed(address, allowed):
            raise URLRefused(
                f"'{host}' trỏ tới địa chỉ nội bộ {address}; chỉ được phép khi quản trị viên ghi rõ địa chỉ đó "
                "hoặc bật KCNGUARD_WEBHOOK_ALLOW_PRIVATE.",
                f"'{host}' points to the private address {address}; allowed only when the admin lists that "
                "address or sets KCNGUARD_WEBHOOK_ALLOW_PRIVATE.",
            )
    if parts.scheme == "http" and any(ipaddress.ip_address(a).is_global for a in addresses):
        raise URLRefused("Webhook ra Internet phải dùng https://.", "A webhook to a public address must use https://.")
    return host, addresses
