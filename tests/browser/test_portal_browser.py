"""The portal in a real browser: Debian's Chromium driven by Playwright, against the API on a free port.

An inspector signs in, opens the queue, opens a listing, confirms it, refers the case to an
agency; the agency's officer signs in and sees the case. Listing text with <script> stays text.
Nothing is downloaded: Playwright drives /usr/bin/chromium (never `playwright install`).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser test",
        allow_module_level=True,
    )

import uvicorn  # noqa: E402
from playwright.sync_api import Browser, Dialog, Page, sync_playwright  # noqa: E402

from api.agencies.service import register_agency  # noqa: E402
from api.auth.sessions import create_user  # noqa: E402
from api.enterprises.service import ensure_enterprise  # noqa: E402
from api.main import create_app  # noqa: E402
from demo.catalogue import load_brands, load_catalogue, load_enterprises  # noqa: E402
from kcnguard.records import Case, CaseState, Listing, Reason, ScoredListing, Seller  # noqa: E402
from kcnguard.settings import Settings  # noqa: E402
from kcnguard.store import Store, open_store  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "mat-khau-trinh-duyet-1"
HOSTILE = "<script>alert('xss')</script> Giày Vinastep giá sốc"
REASON = Reason(code="price_far_below", weight=2.0, vi="Giá thấp hơn nhiều so với giá tham khảo", en="Price far below")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(store: Store) -> list[ScoredListing]:
    """The demo brands and enterprises, an agency, three people, and a few scored flagged listings."""
    for enterprise in load_enterprises():
        ensure_enterprise(store, enterprise)
    for brand in load_brands():
        store.put_brand(brand)
    register_agency(store, {"slug": "qltt-tinh", "name": "Cục Quản lý thị trường tỉnh", "kind": "market_surveillance"})
    create_user(store, "thanhtra.lan", PASSWORD, "inspector", display_name="Trần Thị Lan")
    create_user(store, "qltt.minh", PASSWORD, "partner", owner_id="qltt-tinh", display_name="Lê Văn Minh")
    fakes = [d for d in load_catalogue() if d.brand_id == "vinastep" and d.label == "counterfeit"][:3]
    seen = datetime(2026, 3, 1, tzinfo=UTC)
    items = []
    for n, demo in enumerate(fakes):
        title = HOSTILE if n == 0 else demo.title
        listing = Listing(
            marketplace="demo",
            listing_id=demo.id,
            url=f"http://127.0.0.1:9/item/{demo.id}",
            title=title,
            price=demo.price,
            seller=Seller(id=demo.seller.id, name=demo.seller.name),
            sold_count=demo.sold,
            captured_at=seen,
            evidence_digest=hashlib.sha256(demo.id.encode()).hexdigest(),
        )
        items.append(
            ScoredListing(
                listing=listing,
                brand_id="vinastep",
                score=0.95 - n * 0.05,
                flagged=True,
                threshold=0.5,
                reasons=[REASON],
                model_version="browser-test",
            )
        )
    store.upsert_listings([s.listing for s in items])
    # A second sighting of the first listing, cheaper: the listing page draws its price history.
    first = items[0].listing
    store.upsert_listings(
        [first.model_copy(update={"captured_at": seen + timedelta(days=2), "price": (first.price or 0) * 0.9})]
    )
    store.put_scored(items)
    for s in items:
        store.open_case(Case.open_for(s.listing.key, s.brand_id, s.score, actor="classifier"))
    store.refresh()
    return items


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, list[ScoredListing]]]:
    root = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=root / "data", store_url=f"sqlite:///{root}/s.db", namespace="browser")
    store = open_store(settings.store_url, namespace=settings.namespace)
    store.setup()
    items = _seed(store)
    port = _free_port()
    config = uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="portal-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "the API did not start within 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store, items
    uv.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _watch(page: Page, base: str) -> dict[str, list[str]]:
    """Record dialogs (a script ran), requests leaving the server (a CDN), and CSP or console errors."""
    seen: dict[str, list[str]] = {"dialogs": [], "outside": [], "console_errors": [], "failed": []}

    def on_dialog(dialog: Dialog) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("request", lambda r: None if r.url.startswith(base) else seen["outside"].append(r.url))
    page.on("console", lambda m: seen["console_errors"].append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: seen["failed"].append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


def _log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/portal/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


def test_inspector_confirms_and_refers_then_the_partner_sees_the_case(
    server: tuple[str, Store, list[ScoredListing]], browser: Browser
) -> None:
    base, store, items = server
    # A browser set to English still gets the Vietnamese portal; English is the switch's job.
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    seen = _watch(page, base)

    _log_in(page, base, "thanhtra.lan")
    assert page.url.startswith(f"{base}/portal/queue"), page.url
    assert page.locator("h1").inner_text() == "Hàng chờ xem xét"
    assert "Trần Thị Lan" in page.locator("header").inner_text()

    # The hostile title is shown as text, never run.
    hostile_link = page.locator("a.open-listing").first
    assert hostile_link.inner_text() == HOSTILE
    assert page.locator("main script").count() == 0

    hostile_link.click()
    page.wait_for_load_state()
    assert page.locator("h1.listing-title").inner_text() == HOSTILE
    assert page.locator("svg.chart polyline").count() == 1  # two sightings at different prices
    assert page.locator(".case-state").first.inner_text() == "mới mở"

    page.fill(".decide-one input[name=note]", "Logo sai, giá bằng 20% giá tham khảo")
    page.click(".decide-one button[value=confirm]")
    page.wait_for_load_state()
    assert page.locator(".notice").inner_text() == "Đã lưu."
    assert page.locator(".case-state").first.inner_text() == "đã xác nhận"
    key = items[0].listing.key
    assert store.get_case(Case.make_id(key, "vinastep")).record.state is CaseState.CONFIRMED

    page.click("a.open-case")
    page.wait_for_load_state()
    page.check("#refer-form input[value=qltt-tinh]")
    page.fill("#refer-form input[name=note]", "Đề nghị kiểm tra, xử lý")
    page.click("#refer-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".case-state").inner_text() == "đã chuyển cơ quan"
    assert "qltt-tinh" in page.locator("dd.agencies").inner_text()

    page.click("header form button")  # sign out
    page.wait_for_load_state()
    assert page.url.startswith(f"{base}/portal/login")

    _log_in(page, base, "qltt.minh")
    assert page.url.startswith(f"{base}/portal/partner/cases"), page.url
    rows = page.locator("tr.partner-case")
    assert rows.count() == 1
    rows.first.locator("a").click()
    page.wait_for_load_state()
    assert page.locator(".listing-title").first.inner_text().startswith(HOSTILE)
    assert "Vinastep" in page.locator(".ip-data").inner_text()
    page.click("#ack-form button")
    page.wait_for_load_state()
    assert page.locator(".case-state").inner_text() == "cơ quan đã nhận"

    # English is one click away and the page is the same case.
    page.click("a.lang-switch")
    page.wait_for_load_state()
    assert page.locator(".case-state").inner_text() == "acknowledged"

    assert seen["dialogs"] == [], "a script ran"
    assert seen["outside"] == [], "the portal loaded something from outside"
    assert seen["failed"] == [], seen["failed"]
    assert seen["console_errors"] == [], seen["console_errors"]
    context.close()
