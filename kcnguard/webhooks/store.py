"""The webhook and delivery collections, as the API and the delivery service use them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kcnguard.store import CREATE, Doc, Query, Store, Write
from kcnguard.store.checked import date_value
from kcnguard.webhooks.collections import WEBHOOK_DELIVERIES, WEBHOOKS
from kcnguard.webhooks.records import Delivery, Webhook
from kcnguard.webhooks.sealing import Sealer


class Webhooks:
    """With a `sealer`, secrets are sealed when written and opened when read (kcnguard/webhooks/sealing.py);
    without one (who only lists or routes to webhooks) they stay as stored, and cannot be written."""

    def __init__(self, store: Store, sealer: Sealer | None = None) -> None:
        self.store = store
        self.sealer = sealer

    def put(self, hook: Webhook) -> None:
        if self.sealer is None:
            raise TypeError("writing a webhook needs a Sealer: its secret is never stored in clear")
        body = hook.model_dump(mode="json") | {"secret": self.sealer.seal(hook.secret, hook.agency)}
        self.store.docs.put(WEBHOOKS.name, hook.agency, body)
        self.store.docs.refresh(WEBHOOKS.name)

    def get(self, agency: str) -> Webhook | None:
        doc = self.store.docs.get(WEBHOOKS.name, agency)
        return None if doc is None else self._load(doc.body)

    def _load(self, body: dict[str, Any]) -> Webhook:
        hook = Webhook.model_validate(body)
        if self.sealer is not None:
            hook.secret = self.sealer.open(hook.secret, hook.agency)
        return hook

    def active(self, agency: str) -> Webhook | None:
        """The agency's webhook when deliveries to it are on."""
        hook = self.get(agency)
        return hook if hook is not None and hook.active else None

    def page(self, limit: int, offset: int) -> tuple[list[Webhook], int]:
        page = self.store.docs.search(WEBHOOKS.name, Query(sort=[("agency", "asc")], size=limit, offset=offset))
        return [self._load(d.body) for d in page.docs], page.total

    def delete(self, agency: str) -> bool:
        removed = self.store.docs.delete(WEBHOOKS.name, agency)
        if removed:
            self.store.docs.refresh(WEBHOOKS.name)
        return removed


class Deliveries:
    """Deliveries as stored (the body with its payload) for the sender, and as listed for the admin."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, bodies: Sequence[dict[str, Any]]) -> int:
        """Write the deliveries not there yet; how many were new."""
        if not bodies:
            return 0
        writes = [Write(b["delivery_id"], b, CREATE) for b in bodies]
        results = self.store.docs.bulk_write(WEBHOOK_DELIVERIES.name, writes)
        failed = [r for r in results if not r.ok and not r.conflict]
        if failed:
            raise RuntimeError(f"{len(failed)} webhook deliveries not written, first {failed[0].id}: {failed[0].error}")
        self.store.docs.refresh(WEBHOOK_DELIVERIES.name)
        return sum(1 for r in results if r.ok)

    def due(self, moment: datetime, size: int) -> list[Doc]:
        """Pending deliveries whose next attempt is due by `moment`, longest waiting first."""
        self.store.docs.refresh(WEBHOOK_DELIVERIES.name)
        query = Query(
            filters={"status": "pending"},
            ranges={"next_attempt_at": (None, date_value(moment))},
            sort=[("next_attempt_at", "asc")],
            size=size,
        )
        return self.store.docs.search(WEBHOOK_DELIVERIES.name, query).docs

    def save(self, doc_id: str, body: dict[str, Any], version: str) -> Doc:
        """Write a delivery read at `version`; ConflictError when someone else wrote it since."""
        return self.store.docs.put(WEBHOOK_DELIVERIES.name, doc_id, body, if_version=version)

    def page(self, agency: str | None, status: str | None, limit: int, offset: int) -> tuple[list[Delivery], int]:
        """Newest first."""
        filters = {k: v for k, v in (("agency", agency), ("status", status)) if v}
        query = Query(filters=filters, sort=[("updated_at", "desc")], size=limit, offset=offset)
        page = self.store.docs.search(WEBHOOK_DELIVERIES.name, query)
        return [Delivery.model_validate(d.body) for d in page.docs], page.total
