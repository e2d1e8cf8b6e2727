"""API latency under load: the review queue and partner pulls at a fixed rate over a large embedded store.

    python -m bench.api [--listings 1000000] [--rate 100] [--seconds 30] [--store /tmp/kcnguard-bench-api]

1. Builds (once; cached under --store, rebuilt only when --listings changes) a SQLite store with
   N listings, one score per listing (30 % flagged), a case per flagged listing (a tenth of them
   confirmed and referred to the partner agency `qltt-bench`, spread over 30 days), 20 brands of
   4 enterprises. Documents are written straight into the store in bulk (no bus, no classifier).
2. Starts the API with uvicorn in its own process (one worker), as `kcnguard api` would.
3. Drives each scenario open-loop: request i is due at start + i/rate whatever happened before,
   sent by a pool of threads; latency is measured from when the request was DUE (so queueing
   behind a slow answer counts, no coordinated omission) and also from when it was sent.
   - review queue: GET /v1/review/queue with typical filters (a brand, status=new, or a
     marketplace; sometimes a title search), an inspector's key;
   - partner pull: GET /v1/partner/cases, first pages (updated_after a random day) and cursor
     continuations, a partner key (its rate limit is raised for the run).
Prints p50/p90/p99/max per scenario with the machine's core count, and writes
bench/results/api-<time>.json. Goal: p99 < 50 ms at 100 requests/s with 1,000,000 listings.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.results import write_result

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "bench"
AGENCY = "qltt-bench"
MARKETPLACES = ("shopee", "lazada", "tiki", "sendo")
ENTERPRISES = ("cong-ty-a", "cong-ty-b", "cong-ty-c", "cong-ty-d")
ZONES = ("KCN Quang Minh", "KCN Thăng Long", "KCN Nội Bài", "KCN Phú Nghĩa")
WORDS = [
    "sữa",
    "tươi",
    "kẹo",
    "dừa",
    "bánh",
    "quy",
    "nước",
    "mắm",
    "dầu",
    "gội",
    "áo",
    "khoác",
    "giày",
    "thể",
    "thao",
    "chính",
    "hãng",
    "giá",
    "rẻ",
    "xả",
    "kho",
    "nhái",
    "fake",
]
BATCH = 5000


def _brand_ids() -> list[str]:
    return [f"nhan-{i:02d}" for i in range(20)]


def build(folder: Path, n: int) -> dict[str, Any]:
    """The store file, built once per N; returns what the drivers need (keys, brand ids)."""
    from api.agencies.service import register_agency
    from api.enterprises.service import ensure_enterprise
    from api.keys import create_key
    from kcnguard.records import Brand, Case, CaseState, Listing, Reason, ScoredListing, Seller, StoredListing
    from kcnguard.records.case import CASES
    from kcnguard.records.listing import LISTINGS
    from kcnguard.records.scoring import SCORED
    from kcnguard.store import Write, open_store

    marker = folder / "built.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("listings") == n:
            print(f"using the store built earlier in {folder} ({n:,} listings)")
            return info
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("store.db*"):
        old.unlink()
    store = open_store(f"sqlite:///{folder}/store.db", namespace=NAMESPACE)
    store.setup()
    started = time.monotonic()
    for i, (enterprise_id, zone) in enumerate(zip(ENTERPRISES, ZONES, strict=True)):
        ensure_enterprise(
            store,
            {
                "enterprise_id": enterprise_id,
                "name": f"Công ty {i}",
                "tax_code": f"010123456{i}",
                "zone": zone,
                "contact": {"name": "Nguyễn Văn An", "email": f"an@{enterprise_id}.example", "phone": "0912345678"},
            },
        )
    register_agency(store, {"slug": AGENCY, "name": "QLTT (bench)", "kind": "market_surveillance"})
    brands = _brand_ids()
    for i, brand_id in enumerate(brands):
        store.put_brand(
            Brand(brand_id=brand_id, owner_id=ENTERPRISES[i % 4], owner_name=f"Công ty {i % 4}", name=f"Nhãn {i}")
        )
    rng = random.Random(7)
    now = datetime.now(UTC)
    reasons = [Reason(code="price_far_below", weight=1.5, vi="Giá thấp", en="Price far below")]
    done = 0
    while done < n:
        listings: list[Write] = []
        scores: list[Write] = []
        cases: list[Write] = []
        for i in range(done, min(n, done + BATCH)):
            market = MARKETPLACES[i % 4]
            brand_id = brands[i % len(brands)]
            at = now - timedelta(minutes=rng.randrange(0, 30 * 24 * 60), milliseconds=i % 1000)
            title = " ".join(rng.choices(WORDS, k=6)) + f" {brand_id} {i}"
            listing = Listing(
                marketplace=market,
                listing_id=str(i),
                url=f"https://{market}.example/item/{i}",
                title=title,
                price=float(rng.randrange(5_000, 500_000)),
                seller=Seller(id=f"s{i % 5000}", name=f"Shop {i % 5000}"),
                captured_at=at,
                evidence_digest=hashlib.sha256(str(i).encode()).hexdigest(),
            )
            key = listing.key
            listings.append(Write(key, StoredListing.first(listing).to_doc()))
            score = rng.random()
            flagged = score >= 0.7
            scored = ScoredListing(
                listing=listing,
                brand_id=brand_id,
                score=score,
                flagged=flagged,
                threshold=0.7,
                reasons=reasons,
                model_version="bench",
                scored_at=at,
            )
            status = "new"
            if flagged:
                case = Case.open_for(key, brand_id, score, actor="classifier")
                case = case.model_copy(update={"created_at": at, "updated_at": at})
                if i % 10 == 0:
                    case = case.transition(CaseState.CONFIRMED, "inspector:bench").refer([AGENCY], "inspector:bench")
                    case = case.model_copy(update={"updated_at": at + timedelta(hours=1)})
                    status = "confirmed"
                cases.append(Write(case.case_id, case.to_doc()))
            scores.append(Write(scored.key, {**scored.to_doc(), "listing_key": key, "review_status": status}))
        for collection, writes in ((LISTINGS, listings), (SCORED, scores), (CASES, cases)):
            bad = [r for r in store.docs.bulk_write(collection.name, writes) if not r.ok]
            if bad:
                raise RuntimeError(f"{collection.name}: {bad[0].id}: {bad[0].error}")
        done += len(listings)
        if done % 100_000 == 0 or done == n:
            rate = done / (time.monotonic() - started)
            print(f"  built {done:,} / {n:,} listings ({rate:,.0f} per second)", flush=True)
    info = {
        "listings": n,
        "inspector_key": create_key(store, "bench inspector", "inspector"),
        "partner_key": create_key(store, "bench partner", "partner", owner_id=AGENCY),
        "brands": brands,
        "build_seconds": round(time.monotonic() - started, 1),
    }
    store.close()
    marker.write_text(json.dumps(info))
    return info


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KCNGUARD_STORE_URL": f"sqlite:///{folder}/store.db",
        "KCNGUARD_BUS_URL": f"embedded:///{folder}/bus.db",
        "KCNGUARD_DATA_DIR": str(folder / "data"),
        "KCNGUARD_NAMESPACE": NAMESPACE,
        "KCNGUARD_API_PORT": str(port),
        "KCNGUARD_LOG_LEVEL": "WARNING",
        "KCNGUARD_PARTNER_RATE_PER_MINUTE": "100000",
        "KCNGUARD_PARTNER_RATE_BURST": "10000",
    }
    process = subprocess.Popen([sys.executable, "-m", "launcher.cli", "api"], env=env, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("the API did not become ready in 120 s")


def drive(
    name: str, make: Callable[[random.Random], tuple[str, dict[str, str]]], base: str, rate: float, seconds: float
) -> dict[str, Any]:
    """Open loop: request i is due at t0 + i/rate; threads take the next due request and wait for its time."""
    total = int(rate * seconds)
    plan = [make(random.Random(i)) for i in range(total)]
    due_lat: list[float] = [0.0] * total
    svc_lat: list[float] = [0.0] * total
    codes: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))
    t0 = time.perf_counter() + 0.5
    # A server that cannot keep up would make an open-loop run last for ever: stop sending at twice
    # the planned time and report what was never sent.
    deadline = t0 + 2 * seconds + 5
    sent_count = [0]

    host, port = base.removeprefix("http://").split(":")

    def worker() -> None:
        # http.client rather than httpx: the load generator shares the 2 cores with the server, and
        # the lighter client leaves more of them to what is measured. One kept-alive connection per thread.
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None or time.perf_counter() > deadline:
                    return
                due = t0 + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sent = time.perf_counter()
                path, headers = plan[i]
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(host, int(port), timeout=30)
                    status = 0
                end = time.perf_counter()
                due_lat[i], svc_lat[i] = (end - due) * 1000, (end - sent) * 1000
                with lock:
                    codes[status] = codes.get(status, 0) + 1
                    sent_count[0] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    done = [i for i in range(total) if svc_lat[i] > 0]
    return {
        "scenario": name,
        "requests": total,
        "answered": len(done),
        "not_sent_by_deadline": total - sent_count[0],
        "achieved_rate": round(len(done) / elapsed, 1),
        "status_codes": codes,
        "from_due_ms": summary([due_lat[i] for i in done]),
        "from_send_ms": summary([svc_lat[i] for i in done]),
    }


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def q(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {
        "p50": q(0.5),
        "p90": q(0.9),
        "p99": q(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.mean(ordered), 1),
    }


def queue_request(info: dict[str, Any]) -> Callable[[random.Random], tuple[str, dict[str, str]]]:
    headers = {"X-API-Key": info["inspector_key"]}

    def make(rng: random.Random) -> tuple[str, dict[str, str]]:
        params: dict[str, str] = {"limit": "50", "source": "crawl"}
        pick = rng.random()
        if pick < 0.5:
            params |= {"brand_id": rng.choice(info["brands"]), "status": "new"}
        elif pick < 0.8:
            params |= {"marketplace": rng.choice(MARKETPLACES), "status": "new"}
        elif pick < 0.9:
            params |= {"status": "confirmed"}
        else:
            params |= {"brand_id": rng.choice(info["brands"]), "q": rng.choice(WORDS)}
        return "/v1/review/queue?" + urlencode(params), headers  # search words are Vietnamese: percent-encoded

    return make


def partner_request(info: dict[str, Any], base: str) -> Callable[[random.Random], tuple[str, dict[str, str]]]:
    headers = {"X-API-Key": info["partner_key"]}
    # Real cursors to continue from: walk a few pages first (not timed).
    cursors: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for day in range(0, 30, 3):
            since = (datetime.now(UTC) - timedelta(days=30 - day)).strftime("%Y-%m-%dT%H:%M:%SZ")
            r = client.get("/v1/partner/cases", params={"updated_after": since, "limit": 50}, headers=headers)
            r.raise_for_status()
            if r.json()["next_cursor"]:
                cursors.append(r.json()["next_cursor"])

    def make(rng: random.Random) -> tuple[str, dict[str, str]]:
        if rng.random() < 0.5 and cursors:
            return f"/v1/partner/cases?limit=50&cursor={rng.choice(cursors)}", headers
        since = (datetime.now(UTC) - timedelta(days=rng.randrange(1, 31))).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"/v1/partner/cases?limit=50&updated_after={since}", headers

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--store", type=Path, default=Path("/tmp/kcnguard-bench-api"))
    parser.add_argument("--only", choices=["queue", "partner"], help="run one scenario")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, {platform.python_implementation()} {platform.python_version()}")
    info = build(args.store, args.listings)
    port = free_port()
    api = start_api(args.store, port)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        scenarios = []
        if args.only in (None, "partner"):
            scenarios.append(("partner pull", partner_request(info, base)))
        if args.only in (None, "queue"):
            scenarios.append(("review queue", queue_request(info)))
        for name, make in scenarios:
            drive(name, make, base, args.rate, 3)  # warm-up: caches, connections
            result = drive(name, make, base, args.rate, args.seconds)
            results.append(result)
            due, sent = result["from_due_ms"], result["from_send_ms"]
            print(
                f"{name}: {result['answered']}/{result['requests']} answered at {result['achieved_rate']}/s, "
                f"{cores} cores, "
                f"{args.listings:,} listings; latency from due p50 {due['p50']} ms, p99 {due['p99']} ms "
                f"(from send p50 {sent['p50']} ms, p99 {sent['p99']} ms); codes {result['status_codes']}",
                flush=True,
            )
    finally:
        api.send_signal(signal.SIGTERM)
        api.wait(30)
    out = write_result(
        "api",
        {"cores": cores, "listings": args.listings, "rate": args.rate, "seconds": args.seconds, "results": results},
    )
    print(f"written {out}")


if __name__ == "__main__":
    main()
