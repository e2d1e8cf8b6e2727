"""Headers every response gets from its transport: HSTS over https, and no caching of /v1 answers.

Whether a request came over https is what the ASGI scope says. Behind a TLS-terminating proxy that
is true only when uvicorn's proxy-headers middleware trusted the proxy (KCNGUARD_TRUSTED_PROXIES,
see api/commands.py): an X-Forwarded-Proto from any other peer leaves the scheme http, so a client
cannot talk the API into sending HSTS or Secure cookies over plain http, nor out of it over https.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A year, the value browsers' preload lists ask for; no includeSubDomains: the Board's other hosts are not ours.
HSTS = "max-age=31536000"
# Answers under /v1 carry tokens, keys, secrets or tenants' data: no shared or private cache may keep them.
NO_STORE_PREFIXES = ("/v1/",)


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss")


class SecureHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = is_https(scope)
        no_store = scope.get("path", "").startswith(NO_STORE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if no_store:
                    headers["Cache-Control"] = "no-store"
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, with_headers)
