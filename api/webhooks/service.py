"""Registering partner webhooks (the URL checks are kcnguard.webhooks.urls, run again at each delivery).

The secret is made here, stored sealed (signing needs it: kcnguard/webhooks/sealing.py) and shown once.
Every registration, rotation and removal is an audit entry, without the secret.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from api.agencies.service import require_registered
from api.problems import Problem
from api.webhooks.models import Delivery, WebhookCreated, WebhookIn, WebhookOut
from kcnguard.cases import audit
from kcnguard.records.base import utcnow
from kcnguard.secret_keys import secret_key
from kcnguard.settings import Settings
from kcnguard.store import Store
from kcnguard.webhooks.records import Webhook
from kcnguard.webhooks.sealing import Sealer
from kcnguard.webhooks.store import Deliveries, Webhooks
from kcnguard.webhooks.urls import Resolver, URLRefused, check_url, settings_hosts

log = logging.getLogger(__name__)


def _out(hook: Webhook) -> WebhookOut:
    return WebhookOut.model_validate(hook.model_dump(exclude={"secret"}))


def _audited(hook: Webhook | None) -> dict[str, object] | None:
    return None if hook is None else hook.model_dump(mode="json", include={"url", "allowed_hosts", "active"})


def register(
    store: Store, settings: Settings, body: WebhookIn, actor: str, resolver: Resolver | None = None
) -> WebhookCreated:
    require_registered(store, [body.agency])
    hosts = [h.strip().lower() for h in body.allowed_hosts if h.strip()]
    try:
        check_url(body.url, [*settings_hosts(settings), *hosts], settings.webhook_allow_private, resolver)
    except URLRefused as exc:
        raise Problem(422, "webhook-url-refused", exc.vi, exc.en) from None
    hook = Webhook(
        agency=body.agency,
        url=body.url.strip(),
        allowed_hosts=hosts,
        active=True,
        created_at=utcnow(),
        created_by=actor,
        secret="whsec_" + secrets.token_urlsafe(32),
    )
    # One webhook per agency: registering again replaces the URL and the secret (a rotation).
    hooks = Webhooks(store, Sealer(secret_key(settings)))
    before = Webhooks(store).get(body.agency)
    hooks.put(hook)
    action = "webhook.rotate" if before is not None else "webhook.register"
    audit.append(store, actor, action, f"webhook:{body.agency}", before=_audited(before), after=_audited(hook))
    log.info("webhook for agency %s set to host %s by %s", body.agency, urlsplit(body.url).hostname, actor)
    return WebhookCreated.model_validate(hook.model_dump())


def not_found(agency: str) -> Problem:
    return Problem(
        404, "webhook-not-found", f"Cơ quan '{agency}' chưa có webhook.", f"Agency '{agency}' has no webhook."
    )


def get(store: Store, agency: str) -> WebhookOut:
    hook = Webhooks(store).get(agency)
    if hook is None:
        raise not_found(agency)
    return _out(hook)


def list_webhooks(store: Store, limit: int, offset: int) -> tuple[list[WebhookOut], int]:
    hooks, total = Webhooks(store).page(limit, offset)
    return [_out(h) for h in hooks], total


def remove(store: Store, agency: str, actor: str) -> None:
    before = Webhooks(store).get(agency)
    if before is None or not Webhooks(store).delete(agency):
        raise not_found(agency)
    audit.append(store, actor, "webhook.delete", f"webhook:{agency}", before=_audited(before))
    log.info("webhook for agency %s removed by %s", agency, actor)


def deliveries(
    store: Store, agency: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Delivery], int]:
    return Deliveries(store).page(agency, status, limit, offset)
