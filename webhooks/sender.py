"""Posting due deliveries: each claimed by a versioned write, signed, posted, and its attempt recorded.

A claim pushes the next attempt past this one's timeout, so two senders never post the same attempt.
A failure is retried after backoff * 2^(attempt-1); after the last attempt the delivery is marked
dead and a DeadLetter goes to the bus with the reason, so nothing is dropped silently.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from kcnguard.bus import Bus
from kcnguard.errors import ConflictError
from kcnguard.records import DeadLetter, utcnow
from kcnguard.secret_keys import secret_key
from kcnguard.settings import Settings
from kcnguard.store import Store
from kcnguard.store.checked import date_value
from kcnguard.topics import DEAD_LETTER
from kcnguard.webhooks.sealing import SealBroken, Sealer
from kcnguard.webhooks.signing import EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from kcnguard.webhooks.store import Deliveries, Webhooks
from kcnguard.webhooks.urls import URLRefused, check_url, settings_hosts

log = logging.getLogger(__name__)

GROUP = "webhooks"
# A retry never waits longer than this, however many attempts came before.
LONGEST_WAIT_SECONDS = 6 * 3600.0
SEND_BATCH = 50


class Sender:
    def __init__(self, store: Store, settings: Settings, bus: Bus | None = None, client: httpx.Client | None = None):
        self.settings, self.bus = settings, bus
        self.hooks, self.deliveries = Webhooks(store, Sealer(secret_key(settings))), Deliveries(store)
        self.client = client or httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)

    def wait_for(self, attempts: int) -> float:
        return min(LONGEST_WAIT_SECONDS, self.settings.webhook_backoff_seconds * 2 ** max(0, attempts - 1))

    def send_due(self, now: datetime | None = None) -> int:
        """Attempt every delivery due by `now`; returns how many attempts were made."""
        moment = now or utcnow()
        made = 0
        for doc in self.deliveries.due(moment, SEND_BATCH):
            # Claim: push the next attempt past this one's timeout; a second sender's claim then conflicts.
            lease = moment + timedelta(seconds=self.settings.webhook_timeout_seconds * 3)
            claimed = {**doc.body, "next_attempt_at": date_value(lease)}
            try:
                held = self.deliveries.save(doc.id, claimed, doc.version)
            except ConflictError:
                continue
            self._attempt(held.id, claimed, held.version, moment)
            made += 1
        return made

    def _post(self, agency: str, body: bytes, event_id: str) -> tuple[int | None, str | None]:
        try:
            hook = self.hooks.active(agency)
        except SealBroken as broken:
            return None, str(broken)
        if hook is None:
            return None, "the agency's webhook was removed or disabled"
        try:
            # Checked again at every attempt: a name that resolved outside may resolve inside later.
            check_url(
                hook.url, [*settings_hosts(self.settings), *hook.allowed_hosts], self.settings.webhook_allow_private
            )
        except URLRefused as exc:
            return None, f"URL no longer allowed: {exc.en}"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "KCNGuard-Webhooks/1",
            TIMESTAMP_HEADER: timestamp,
            EVENT_HEADER: event_id,
            SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
        }
        try:
            response = self.client.post(hook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    def _attempt(self, doc_id: str, body: dict[str, Any], version: str, now: datetime) -> None:
        started = time.monotonic()
        raw = json.dumps(body["payload"], ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        status, error = self._post(body["agency"], raw, body["event_id"])
        # Scheduled from the sender's clock reading for this round (`now`), so a round is one instant.
        attempts = [
            *body["attempts"],
            {"at": date_value(now), "status": status, "error": error, "seconds": round(time.monotonic() - started, 3)},
        ]
        update: dict[str, Any] = {"attempts": attempts, "updated_at": date_value(now)}
        if error is None:
            update |= {"status": "delivered", "next_attempt_at": None}
            log.info("webhook %s delivered to %s on attempt %d", body["event_id"], body["agency"], len(attempts))
        elif len(attempts) >= self.settings.webhook_max_attempts:
            update |= {"status": "dead", "next_attempt_at": None}
            log.error(
                "webhook %s to %s dead after %d attempts: %s", body["event_id"], body["agency"], len(attempts), error
            )
            self._dead_letter(doc_id, raw, error, len(attempts))
        else:
            wait = self.wait_for(len(attempts))
            update["next_attempt_at"] = date_value(now + timedelta(seconds=wait))
            log.warning(
                "webhook %s to %s failed (attempt %d): %s; next in %.0f s",
                body["event_id"],
                body["agency"],
                len(attempts),
                error,
                wait,
            )
        self.deliveries.save(doc_id, {**body, **update}, version)

    def _dead_letter(self, doc_id: str, raw: bytes, error: str, attempts: int) -> None:
        if self.bus is None:
            return
        letter = DeadLetter.of(
            raw, f"webhook gave up after {attempts} attempts: {error}", source="webhooks", key=doc_id, worker=GROUP
        )
        self.bus.publish_records(DEAD_LETTER, [letter])
        self.bus.flush()

    def close(self) -> None:
        self.client.close()
