"""The webhook delivery service (`kcnguard webhooks`): case events in, signed POSTs to partners out.

Two halves, both restartable at any point:
- a RecordWorker on CASE_EVENTS turns each event into one delivery per agency the case is
  referred to that has an active webhook, written with CREATE under `agency|event_id`, so a
  replayed event never makes a second delivery (the bus is at-least-once);
- a sender picks due deliveries, claims each by a versioned write (two senders never post the
  same attempt), POSTs the JSON body signed with the agency's secret, and records the attempt.
  A failure is retried after backoff * 2^(attempt-1); after the last attempt the delivery is
  marked dead and a DeadLetter goes to the bus with the reason, so nothing is dropped silently.

Signature: X-KCNGuard-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>, with
X-KCNGuard-Timestamp (Unix seconds) and X-KCNGuard-Event-Id (the partner's dedupe key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from api.webhooks.service import check_url, secret_of, settings_hosts
from kcnguard.bus import Bus, open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.errors import ConflictError
from kcnguard.records import CaseEvent, DeadLetter, Record, utcnow
from kcnguard.settings import Settings
from kcnguard.store import CREATE, Query, Store, Write, open_store, schema
from kcnguard.store.checked import date_value
from kcnguard.topics import CASE_EVENTS, DEAD_LETTER

log = logging.getLogger(__name__)

GROUP = "webhooks"
SIGNATURE_HEADER = "X-KCNGuard-Signature"
TIMESTAMP_HEADER = "X-KCNGuard-Timestamp"
EVENT_HEADER = "X-KCNGuard-Event-Id"
# A retry never waits longer than this, however many attempts came before.
LONGEST_WAIT_SECONDS = 6 * 3600.0
SEND_BATCH = 50


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a partner runs on its side (kept here for tests and as the reference)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def delivery_id(agency: str, event_id: str) -> str:
    return f"{agency}|{event_id}"


def payload(event: CaseEvent, agency: str) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "kind": event.kind,
        "case_id": event.case_id,
        "state": str(event.state),
        "brand_id": event.brand_id,
        "listing_key": event.listing_key,
        "score": event.score,
        "at": date_value(event.at),
        "agency": agency,
        "case_url": f"/v1/partner/cases/{event.case_id}",
    }


def plan(store: Store, events: Sequence[CaseEvent]) -> int:
    """Write one pending delivery per (event, agency with an active webhook); returns how many were new."""
    cases = store.get_cases(list({e.case_id for e in events}))
    writes: list[Write] = []
    now = date_value(utcnow())
    hooks: dict[str, bool] = {}
    for event in events:
        case = cases.get(event.case_id)
        if case is None:
            log.warning("case event %s names case %s, which is not in the store", event.event_id, event.case_id)
            continue
        for agency in case.record.agencies:
            if agency not in hooks:
                hooks[agency] = secret_of(store, agency) is not None
            if not hooks[agency]:
                continue
            writes.append(
                Write(
                    delivery_id(agency, event.event_id),
                    {
                        "delivery_id": delivery_id(agency, event.event_id),
                        "agency": agency,
                        "event_id": event.event_id,
                        "case_id": event.case_id,
                        "status": "pending",
                        "payload": payload(event, agency),
                        "attempts": [],
                        "next_attempt_at": now,
                        "updated_at": now,
                    },
                    CREATE,
                )
            )
    if not writes:
        return 0
    results = store.docs.bulk_write(schema.WEBHOOK_DELIVERIES.name, writes)
    failed = [r for r in results if not r.ok and not r.conflict]
    if failed:
        raise RuntimeError(f"{len(failed)} webhook deliveries not written, first {failed[0].id}: {failed[0].error}")
    store.docs.refresh(schema.WEBHOOK_DELIVERIES.name)
    return sum(1 for r in results if r.ok)


class Sender:
    def __init__(self, store: Store, settings: Settings, bus: Bus | None = None, client: httpx.Client | None = None):
        self.store, self.settings, self.bus = store, settings, bus
        self.client = client or httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)

    def wait_for(self, attempts: int) -> float:
        return min(LONGEST_WAIT_SECONDS, self.settings.webhook_backoff_seconds * 2 ** max(0, attempts - 1))

    def send_due(self, now: datetime | None = None) -> int:
        """Attempt every delivery due by `now`; returns how many attempts were made."""
        moment = now or utcnow()
        self.store.docs.refresh(schema.WEBHOOK_DELIVERIES.name)
        query = Query(
            filters={"status": "pending"},
            ranges={"next_attempt_at": (None, date_value(moment))},
            sort=[("next_attempt_at", "asc")],
            size=SEND_BATCH,
        )
        made = 0
        for doc in self.store.docs.search(schema.WEBHOOK_DELIVERIES.name, query).docs:
            # Claim: push the next attempt past this one's timeout; a second sender's claim then conflicts.
            lease = moment + timedelta(seconds=self.settings.webhook_timeout_seconds * 3)
            claimed = {**doc.body, "next_attempt_at": date_value(lease)}
            try:
                held = self.store.docs.put(schema.WEBHOOK_DELIVERIES.name, doc.id, claimed, if_version=doc.version)
            except ConflictError:
                continue
            self._attempt(held.id, claimed, held.version, moment)
            made += 1
        return made

    def _post(self, agency: str, body: bytes, event_id: str) -> tuple[int | None, str | None]:
        found = secret_of(self.store, agency)
        if found is None:
            return None, "the agency's webhook was removed or disabled"
        hook, secret = found
        try:
            # Checked again at every attempt: a name that resolved outside may resolve inside later.
            check_url(
                hook["url"],
                [*settings_hosts(self.settings), *hook.get("allowed_hosts", [])],
                self.settings.webhook_allow_private,
            )
        except Exception as exc:
            return None, f"URL no longer allowed: {getattr(exc, 'en', exc)}"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "KCNGuard-Webhooks/1",
            TIMESTAMP_HEADER: timestamp,
            EVENT_HEADER: event_id,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        try:
            response = self.client.post(hook["url"], content=body, headers=headers)
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
        self.store.docs.put(schema.WEBHOOK_DELIVERIES.name, doc_id, {**body, **update}, if_version=version)

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


def handler(store: Store) -> Any:
    def handle(records: list[Record]) -> None:
        events = [r for r in records if isinstance(r, CaseEvent)]
        made = plan(store, events)
        if made:
            log.info("planned %d webhook deliveries from %d case events", made, len(events))

    return handle


def run(settings: Settings, stop: threading.Event) -> None:
    """Consume case events and deliver webhooks until `stop` is set."""
    if settings.store_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.store_url, namespace=settings.namespace, data_dir=settings.data_dir)
    bus = open_bus(settings.bus_url, namespace=settings.namespace, data_dir=settings.data_dir)
    store.setup()
    bus.ensure_topics([CASE_EVENTS, DEAD_LETTER])
    sender = Sender(store, settings, bus)

    def send_loop() -> None:
        while not stop.is_set():
            try:
                made = sender.send_due()
            except Exception:  # the store may be down for a while; the loop outlives it
                log.exception("webhook sender failed; retrying shortly")
                made = 0
            stop.wait(0.2 if made else 1.0)

    thread = threading.Thread(target=send_loop, name="webhook-sender", daemon=True)
    thread.start()
    worker = RecordWorker(
        bus,
        GROUP,
        CASE_EVENTS,
        handler(store),
        name="webhooks",
        batch_size=settings.worker_batch_size,
        poll_seconds=settings.worker_poll_seconds,
        retry_max_seconds=settings.retry_max_seconds,
        stop=stop,
    )
    try:
        worker.run()
    finally:
        stop.set()
        thread.join(10)
        sender.close()
        bus.close()
        store.close()
