"""Rate limits: every reachable route, per principal, one budget shared by threads and API processes."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import shared_counters
from api.auth.users import create_user
from api.collections import COLLECTIONS as API_COLLECTIONS
from api.keys import create_key
from api.main import create_app
from api.ratelimit import Limit, Limits, client_network
from api.shared_counters import SharedCounters
from kcnguard.settings import Settings
from kcnguard.store import Store, open_store
from tests.unit.test_api_support import Keys, auth

pytest_plugins = ["tests.unit.test_api_support"]


def test_a_bucket_refills_at_its_rate(store: Store) -> None:
    now = [1000.0]
    counters = SharedCounters(store, clock=lambda: now[0])
    assert counters.take_token("k", 1.0, 2) == 0 and counters.take_token("k", 1.0, 2) == 0
    assert counters.take_token("k", 1.0, 2) == pytest.approx(1.0)
    assert counters.take_token("other", 1.0, 2) == 0
    now[0] += 1.0
    assert counters.take_token("k", 1.0, 2) == 0


@pytest.mark.parametrize("in_process_turns", [True, False], ids=["striped", "store-only"])
def test_threads_never_spend_the_same_token(store: Store, in_process_turns: bool, monkeypatch) -> None:
    if not in_process_turns:
        # The versioned write alone must hold, as it does between processes.
        monkeypatch.setattr(shared_counters, "_STRIPES", [contextlib.nullcontext()])
    start = threading.Barrier(40)
    granted: list[bool] = []

    def take() -> None:
        start.wait()
        granted.append(SharedCounters(store).take_token("busy", 1 / 3600, 10) == 0)

    threads = [threading.Thread(target=take) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == 10


def _take_in_another_process(path: str, tries: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = open_store(f"sqlite:///{path}", namespace="t")
    store.setup(API_COLLECTIONS)
    counters = SharedCounters(store)
    results.put(sum(counters.take_token("shared", 1 / 3600, 10) == 0 for _ in range(tries)))
    store.close()


def test_two_processes_grant_what_one_would(tmp_path: Path) -> None:
    first = open_store(f"sqlite:///{tmp_path}/s.db", namespace="t")
    first.setup(API_COLLECTIONS)
    first.close()
    ctx = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_take_in_another_process, args=(str(tmp_path / "s.db"), 25, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert results.get(timeout=5) + results.get(timeout=5) == 10


def _limited(tmp_path: Path, namespace: str, **limits: int) -> Settings:
    return Settings(data_dir=tmp_path / "data", store_url=f"sqlite:///{tmp_path}/s.db", namespace=namespace, **limits)


@pytest.fixture
def tight(tmp_path: Path, namespace: str, store: Store, keys: Keys) -> Iterator[TestClient]:
    settings = _limited(
        tmp_path,
        namespace,
        anonymous_rate_per_minute=1,
        anonymous_rate_burst=2,
        user_rate_per_minute=1,
        user_rate_burst=3,
        partner_rate_per_minute=1,
        partner_rate_burst=2,
    )
    with TestClient(create_app(settings, store)) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/docs", None),
        ("get", "/openapi.json", None),
        ("post", "/v1/auth/login", {"username": "ai.do", "password": "không đúng đâu"}),
        ("post", "/v1/reports", {}),
        ("get", "/portal/login", None),
    ],
)
def test_anonymous_callers_are_limited_per_address_on_every_route(
    tight: TestClient, method: str, path: str, body: dict | None
) -> None:
    def call(client: TestClient) -> int:
        return client.request(method, path, json=body).status_code

    assert 429 not in [call(tight) for _ in range(2)]
    refused = tight.request(method, path, json=body)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("rate-limited")
    with TestClient(tight.app, client=("198.51.100.7", 40000)) as elsewhere:
        assert call(elsewhere) != 429
    # Probes are not counted.
    assert tight.get("/healthz").status_code == 200


def test_a_partner_agency_has_one_budget_whatever_its_keys(tight: TestClient, store: Store, keys: Keys) -> None:
    second = create_key(store, "QLTT tỉnh, máy thứ hai", "partner", owner_id="qltt")
    assert tight.get("/v1/partner/cases", headers=auth(keys.partner)).status_code == 200
    assert tight.get("/v1/partner/cases", headers=auth(second)).status_code == 200
    assert tight.get("/v1/partner/cases", headers=auth(second)).status_code == 429
    assert tight.get("/v1/partner/cases", headers=auth(keys.partner)).status_code == 429
    # Another principal is untouched.
    assert tight.get("/v1/cases", headers=auth(keys.inspector)).status_code == 200


def test_a_new_session_gets_no_fresh_burst(tmp_path: Path, namespace: str, store: Store, keys: Keys) -> None:
    create_user(store, "lan.tt", "một mật khẩu dài", "inspector")
    settings = _limited(tmp_path, namespace, user_rate_per_minute=1, user_rate_burst=3)
    with TestClient(create_app(settings, store)) as client:

        def session() -> dict[str, str]:
            answer = client.post("/v1/auth/login", json={"username": "lan.tt", "password": "một mật khẩu dài"})
            return {"Authorization": f"Bearer {answer.json()['token']}"}

        first = session()
        assert [client.get("/v1/auth/me", headers=first).status_code for _ in range(3)] == [200] * 3
        assert client.get("/v1/auth/me", headers=session()).status_code == 429


def test_idle_counters_are_swept_and_busy_ones_kept(store: Store) -> None:
    now = [1000.0]
    counters = SharedCounters(store, clock=lambda: now[0])
    counters.take_token("old", 1.0, 5)
    now[0] += 7200
    counters.take_token("recent", 1.0, 5)
    now[0] += 10
    assert counters.sweep(3600) == 1
    assert counters.table.get("old") is None and counters.table.get("recent") is not None


def test_an_ipv6_subscriber_is_one_anonymous_caller() -> None:
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("203.0.113.9") == "203.0.113.9" == client_network("::ffff:203.0.113.9")
    assert client_network("testclient") == "testclient"


def test_a_process_leases_tokens_a_few_at_a_time_and_never_grants_more_than_the_bucket(
    store: Store, tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = SharedCounters.take_tokens

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SharedCounters, "take_tokens", counted)
    # 100 per second, burst 1000: a lease is 100 tokens (a tenth of the burst, a second of the rate).
    fast = Limit("rate-fast", 6000, 1000)
    one = Limits(_limited(tmp_path, namespace))
    assert all(one._spend(SharedCounters(store), fast) == 0 for _ in range(100))
    assert len(calls) == 1
    # Two processes' limiters on one bucket grant what it holds, plus only what refilled meanwhile.
    shared = Limit("rate-shared", 6000, 1000)
    first, second = Limits(_limited(tmp_path, namespace)), Limits(_limited(tmp_path, namespace))
    started = time.monotonic()
    granted = sum(limiter._spend(SharedCounters(store), shared) == 0 for _ in range(700) for limiter in (first, second))
    refilled = 100 * (time.monotonic() - started)
    assert 1000 - 2 * 100 <= granted <= 1000 + refilled + 1
    # A lease's unspent tokens go back to the bucket with the next write.
    spare = Limits(_limited(tmp_path, namespace))
    assert spare._spend(SharedCounters(store), Limit("rate-back", 6000, 1000)) == 0
    left, _ = spare._leases["rate-back"]
    spare._leases["rate-back"] = (left, 0.0)  # the lease ended
    assert spare._spend(SharedCounters(store), Limit("rate-back", 6000, 1000)) == 0
    bucket = SharedCounters(store).table.get("rate-back")
    assert bucket is not None and bucket.tokens >= 1000 - 100 - 1


def test_a_leased_token_is_spent_without_the_store(store: Store, tmp_path: Path, namespace: str) -> None:
    limits = Limits(_limited(tmp_path, namespace, anonymous_rate_per_minute=6000, anonymous_rate_burst=1000))
    assert limits.spend_leased(None, "10.2.2.2") is None  # nothing leased yet
    assert limits.take(store, None, "10.2.2.2")[0] == 0  # leases 100, spends one
    assert all(limits.spend_leased(None, "10.2.2.2") is not None for _ in range(99))
    assert limits.spend_leased(None, "10.2.2.2") is None  # the lease is spent: back to the store
    assert limits.spend_leased("kcn_never-seen", "10.2.2.2") is None  # an unknown credential: the long way
