"""Partner webhooks: the admin's allowlist, signed deliveries, retries with backoff, dead-lettering."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.webhooks import service
from api.webhooks.models import WebhookIn
from kcnguard.cases.events import case_event
from kcnguard.records import CaseState, utcnow
from kcnguard.settings import Settings
from kcnguard.store import Store
from kcnguard.webhooks import urls
from kcnguard.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from kcnguard.webhooks.store import Deliveries
from kcnguard.webhooks.urls import URLRefused
from tests.unit.test_api_partners import _agencies, refer
from tests.unit.test_api_support import Keys, auth, open_case, scored, seed_brand, seed_scored
from webhooks.planner import plan
from webhooks.sender import Sender

pytest_plugins = ["tests.unit.test_api_support"]


class Partner:
    """A local HTTP server that fails `failures` times, then answers 204; it keeps what it got."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(500 if len(outer.received) <= outer.failures else 204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"webhook_allowed_hosts": "127.0.0.1", "webhook_max_attempts": 3, "webhook_backoff_seconds": 1.0}
    )


def test_only_allowlisted_public_hosts_pass() -> None:
    public = lambda _h: ["93.184.216.34"]  # noqa: E731 - a resolver stand-in
    assert urls.check_url("https://hooks.qltt.gov.vn/x", ["hooks.qltt.gov.vn"], False, public)[0] == "hooks.qltt.gov.vn"
    assert urls.check_url("https://a.congan.gov.vn/x", ["*.congan.gov.vn"], False, public)
    cases = [
        ("https://evil.example/x", ["hooks.qltt.gov.vn"], "allowlist"),
        ("ftp://hooks.qltt.gov.vn/x", ["hooks.qltt.gov.vn"], "https"),
        ("https://user:pw@hooks.qltt.gov.vn/x", ["hooks.qltt.gov.vn"], "password"),
        ("http://hooks.qltt.gov.vn/x", ["hooks.qltt.gov.vn"], "https"),
    ]
    for url, allowed, why in cases:
        with pytest.raises(URLRefused) as err:
            urls.check_url(url, allowed, False, public)
        assert why in err.value.en, (url, err.value.en)


def test_private_addresses_need_an_explicit_allowance() -> None:
    inside = lambda _h: ["10.0.0.5"]  # noqa: E731
    with pytest.raises(URLRefused, match="private"):
        urls.check_url("https://hooks.internal/x", ["hooks.internal"], False, inside)
    metadata = lambda _h: ["169.254.169.254"]  # noqa: E731 - a name pointing at cloud metadata
    with pytest.raises(URLRefused, match="private"):
        urls.check_url("https://meta.partner.example/x", ["meta.partner.example"], False, metadata)
    assert urls.check_url("https://hooks.internal/x", ["hooks.internal", "10.0.0.5"], False, inside)
    assert urls.check_url("https://hooks.internal/x", ["hooks.internal"], True, inside)
    assert urls.check_url("http://127.0.0.1:9/x", ["127.0.0.1"], False)


def test_registration_shows_the_secret_once(
    client, keys: Keys, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _agencies(store)
    client.app.state.settings = settings.model_copy(update={"webhook_allowed_hosts": "hooks.qltt.example"})
    body = {"agency": "qltt", "url": "https://hooks.qltt.example/kcn"}
    refused = client.post("/v1/webhooks", json={**body, "url": "https://elsewhere.example/"}, headers=auth(keys.admin))
    assert refused.status_code == 422 and "allowlist" in refused.json()["detail_en"]
    unknown = client.post("/v1/webhooks", json={**body, "agency": "nobody"}, headers=auth(keys.admin))
    assert unknown.status_code == 422
    # No DNS in tests: the allowed name resolves to a public documentation address.
    monkeypatch.setattr(urls, "resolve", lambda _h: ["93.184.216.34"])
    made = client.post("/v1/webhooks", json=body, headers=auth(keys.admin))
    assert made.status_code == 201, made.text
    assert made.json()["secret"].startswith("whsec_")
    shown = client.get("/v1/webhooks/qltt", headers=auth(keys.admin)).json()
    assert "secret" not in shown and shown["url"] == body["url"]
    assert "secret" not in json.dumps(client.get("/v1/webhooks", headers=auth(keys.admin)).json())
    assert client.post("/v1/webhooks", json=body, headers=auth(keys.inspector)).status_code == 403


@pytest.fixture
def partner_ok_on_third() -> Iterator[Partner]:
    partner = Partner(failures=2)
    yield partner
    partner.close()


def _referred_event(store: Store) -> Any:
    seed_brand(store, "sua-acme", "acme")
    item = scored("sua-acme", "w1", 0.9)
    seed_scored(store, [item])
    case = open_case(store, item)
    refer(store, case, ["qltt"])
    current = store.get_case(case.case_id)
    assert current is not None and current.record.state is CaseState.REFERRED
    return case_event(current.record, "referred", "inspector:test", current.version)


def test_delivery_is_signed_retried_with_backoff_and_recorded(
    store: Store, keys: Keys, hook_settings: Settings, partner_ok_on_third: Partner
) -> None:
    _agencies(store)
    created = service.register(store, hook_settings, WebhookIn(agency="qltt", url=partner_ok_on_third.url), "admin:t")
    event = _referred_event(store)
    assert plan(store, [event]) == 1
    assert plan(store, [event]) == 0  # a replayed event makes no second delivery
    sender = Sender(store, hook_settings)
    now = utcnow()
    assert sender.send_due(now) == 1  # attempt 1 fails
    assert sender.send_due(now) == 0  # not due again before the backoff
    assert sender.send_due(now + timedelta(seconds=1.5)) == 1  # attempt 2 (after 1 s) fails
    assert sender.send_due(now + timedelta(seconds=2.5)) == 0  # the second wait is 2 s
    assert sender.send_due(now + timedelta(seconds=4)) == 1  # attempt 3 succeeds
    sender.close()
    assert len(partner_ok_on_third.received) == 3
    headers, body = partner_ok_on_third.received[-1]
    assert verify(created.secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not verify("whsec_wrong", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert headers["X-KCNGuard-Event-Id"] == event.event_id
    sent = json.loads(body)
    assert sent["case_id"] == event.case_id and sent["agency"] == "qltt" and sent["state"] == "referred"
    store.refresh()
    (delivery,), _ = Deliveries(store).page("qltt", None, 10, 0)
    assert delivery.status == "delivered"
    assert [a.status for a in delivery.attempts] == [500, 500, 204]


def test_delivery_is_dead_lettered_after_the_last_attempt(store: Store, keys: Keys, hook_settings: Settings) -> None:
    partner = Partner(failures=100)
    try:
        _agencies(store)
        service.register(store, hook_settings, WebhookIn(agency="qltt", url=partner.url), "admin:t")
        plan(store, [_referred_event(store)])
        sender = Sender(store, hook_settings)
        now = utcnow()
        for step in range(6):
            sender.send_due(now + timedelta(seconds=10 * step))
        sender.close()
    finally:
        partner.close()
    assert len(partner.received) == 3  # webhook_max_attempts
    store.refresh()
    (delivery,), _ = Deliveries(store).page("qltt", None, 10, 0)
    assert delivery.status == "dead" and len(delivery.attempts) == 3


def test_no_delivery_for_agencies_without_a_webhook(store: Store, keys: Keys) -> None:
    _agencies(store)
    assert plan(store, [_referred_event(store)]) == 0


def test_deliveries_are_listed_for_the_admin(client, keys: Keys, store: Store, hook_settings: Settings) -> None:
    _agencies(store)
    service.register(store, hook_settings, WebhookIn(agency="qltt", url="http://127.0.0.1:9/x"), "admin:t")
    plan(store, [_referred_event(store)])
    r = client.get("/v1/webhooks/qltt/deliveries", headers=auth(keys.admin))
    assert r.status_code == 200 and r.json()["total"] == 1 and r.json()["items"][0]["status"] == "pending"
    assert client.get("/v1/webhooks/qltt/deliveries?limit=101", headers=auth(keys.admin)).status_code == 422
    assert client.delete("/v1/webhooks/qltt", headers=auth(keys.admin)).status_code == 204
    assert client.get("/v1/webhooks/qltt", headers=auth(keys.admin)).status_code == 404


def test_the_service_consumes_case_events_and_delivers(tmp_path, namespace: str) -> None:
    """`kcnguard webhooks` end to end: an event on the embedded bus reaches the partner, signed."""
    from api.agencies.service import register_agency
    from kcnguard.bus import open_bus
    from kcnguard.store import open_store
    from kcnguard.topics import CASE_EVENTS
    from webhooks.service import run

    settings = Settings(
        data_dir=tmp_path / "data",
        store_url=f"sqlite:///{tmp_path}/s.db",
        bus_url=f"embedded:///{tmp_path}/bus.db",
        namespace=namespace,
        webhook_allowed_hosts="127.0.0.1",
        worker_poll_seconds=0.1,
    )
    store = open_store(settings.store_url, namespace=namespace)
    store.setup()
    register_agency(store, {"slug": "qltt", "name": "QLTT", "kind": "market_surveillance"})
    partner = Partner(failures=0)
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(settings, stop), daemon=True)
    try:
        created = service.register(store, settings, WebhookIn(agency="qltt", url=partner.url), "admin:t")
        event = _referred_event(store)
        bus = open_bus(settings.bus_url, namespace=namespace)
        bus.ensure_topics([CASE_EVENTS])
        bus.publish_records(CASE_EVENTS, [event], keys=[event.case_id])
        bus.flush()
        bus.close()
        thread.start()
        for _ in range(100):
            if partner.received:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        thread.join(15)
        partner.close()
        store.close()
    assert len(partner.received) == 1, "the webhook service delivered nothing within 10 s"
    headers, body = partner.received[0]
    assert verify(created.secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
    assert not thread.is_alive()
