"""The portal's pages end to end through TestClient: queue filters, a listing, decisions one and bulk,
cases (refer, conflict), brands (form validation), reports, the partner's pages, and tenancy (404)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kcnguard.records import Case, CaseState
from kcnguard.store import Store
from tests.unit.portal_support import csrf_of, seed_people, sign_in
from tests.unit.test_api_support import open_case, scored, seed_brand, seed_scored

pytest_plugins = ["tests.unit.test_api_support"]

HOSTILE = '<img src=x onerror="alert(1)"> Sữa Acme'
A1 = "demo:a1"
CASE_A1 = Case.make_id(A1, "sua-acme")


def _seed(store: Store) -> None:
    seed_people(store)
    seed_brand(store, "sua-acme", "acme", name="Sữa Acme")
    seed_brand(store, "keo-beta", "beta", name="Kẹo Beta")
    items = [
        scored("sua-acme", "a1", 0.93, title=HOSTILE, price=1234000),
        scored("sua-acme", "a2", 0.71, title="Sữa Acme xách tay"),
        scored("keo-beta", "b1", 0.88, title="Kẹo Beta giả"),
    ]
    # a3 shares a1's seller, so the listing page has "the seller's other listings".
    other = scored("sua-acme", "a3", 0.66, title="Sữa Acme lô khác")
    other = other.model_copy(update={"listing": other.listing.model_copy(update={"seller": items[0].listing.seller})})
    seed_scored(store, [*items, other])
    open_case(store, items[0])


def _decide(client: TestClient, keys: list[str], decision: str, page: str = "/portal/queue", **extra: str):
    token = csrf_of(client.get(page).text)
    data = {"keys": keys, "decision": decision, "csrf": token, "next": page, **extra}
    return client.post("/portal/decide", data=data, follow_redirects=False)


def _case_version(client: TestClient, case_id: str = CASE_A1) -> tuple[str, str]:
    page = client.get(f"/portal/cases/{case_id}")
    assert page.status_code == 200, page.text
    version = re.search(r'name="version" value="([^"]+)"', page.text)
    assert version
    return version.group(1), csrf_of(page.text)


def test_queue_filters_by_brand_marketplace_status_seller_and_text(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt")
    assert "item/b1" not in client.get("/portal/queue", params={"brand": "sua-acme"}).text
    assert "item/a1" not in client.get("/portal/queue", params={"seller": "s-b1"}).text
    assert "item/b1" in client.get("/portal/queue", params={"seller": "s-b1"}).text
    assert "item/a1" not in client.get("/portal/queue", params={"marketplace": "shopee"}).text
    assert "item/a2" in client.get("/portal/queue", params={"q": "xách tay"}).text
    assert "item/a1" not in client.get("/portal/queue", params={"q": "xách tay"}).text
    future = client.get("/portal/queue", params={"date_from": "2030-01-01"})
    assert future.status_code == 200 and "item/a1" not in future.text
    assert _decide(client, [f"{A1}|sua-acme"], "dismiss").status_code == 303
    dismissed = client.get("/portal/queue", params={"status": "dismissed"}).text
    assert "item/a1" in dismissed and "item/a2" not in dismissed
    assert client.get("/portal/queue", params={"status": "bogus"}).status_code == 422


def test_listing_page_shows_reasons_history_chart_seller_and_case_escaped(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt")
    page = client.get(f"/portal/listings/{A1}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Sữa Acme" in html
    assert "Giá thấp hơn nhiều so với giá tham khảo" in html
    assert '<svg class="chart"' in html and "<polyline" in html  # two sightings: a chart
    assert "01/05/2024 07:00" in html and "02/05/2024 07:00" in html  # Viet Nam time, day first
    assert "Sữa Acme lô khác" in html  # the seller's other listing
    seller_queue = client.get("/portal/queue", params={"seller": "s-a1", "marketplace": "demo"}).text
    assert 'href="/portal/queue?seller=s-a1&amp;marketplace=demo' in html
    assert "item/a1" in seller_queue and "item/a3" in seller_queue and "item/a2" not in seller_queue
    digest = store.get_listing(A1).record.listing.evidence_digest
    assert f"/portal/evidence/{digest}?listing=demo%3Aa1" in html
    assert "mới mở" in html and "classifier" in html  # the case's state and history
    assert 'value="confirm"' in html


def test_confirm_refer_then_the_partner_sees_acknowledges_and_reports(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt")
    confirmed = _decide(client, [f"{A1}|sua-acme"], "confirm", page=f"/portal/listings/{A1}", note="logo sai")
    assert confirmed.status_code == 303 and "notice=saved" in confirmed.headers["location"]
    assert store.get_case(CASE_A1).record.state is CaseState.CONFIRMED
    version, token = _case_version(client)
    referred = client.post(
        f"/portal/cases/{CASE_A1}/refer",
        data={"agencies": "qltt", "note": "đề nghị kiểm tra", "version": version, "csrf": token},
        follow_redirects=False,
    )
    assert referred.status_code == 303, referred.text
    assert store.get_case(CASE_A1).record.agencies == ["qltt"]
    client.cookies.clear()

    sign_in(client, "qltt.user")
    cases = client.get("/portal/partner/cases").text
    assert CASE_A1 in cases
    page = client.get(f"/portal/partner/cases/{CASE_A1}")
    assert page.status_code == 200
    assert "&lt;img src=x" in page.text and "<img src=x" not in page.text
    assert "Thông tin sở hữu trí tuệ" in page.text and "Công ty acme" in page.text  # the brand's IP data
    digest = store.get_listing(A1).record.listing.evidence_digest
    assert digest in page.text
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    ack = client.post(
        f"/portal/partner/cases/{CASE_A1}/acknowledge",
        data={"version": version, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert ack.status_code == 303
    assert store.get_case(CASE_A1).record.state is CaseState.ACKNOWLEDGED
    page = client.get(f"/portal/partner/cases/{CASE_A1}")
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    action = client.post(
        f"/portal/partner/cases/{CASE_A1}/action",
        data={
            "kind": "takedown_requested",
            "document_number": "12/QLTT",
            "document_date": "2026-03-05",
            "version": version,
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert action.status_code == 303, action.text
    assert store.get_case(CASE_A1).record.state is CaseState.ACTIONED
    assert "12/QLTT" in client.get(f"/portal/partner/cases/{CASE_A1}").text


def test_another_partner_and_another_enterprise_get_404(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt")
    _decide(client, [f"{A1}|sua-acme"], "confirm")
    version, token = _case_version(client)
    client.post(f"/portal/cases/{CASE_A1}/refer", data={"agencies": "qltt", "version": version, "csrf": token})
    client.cookies.clear()

    sign_in(client, "congan.user")
    assert CASE_A1 not in client.get("/portal/partner/cases").text
    assert client.get(f"/portal/partner/cases/{CASE_A1}").status_code == 404
    page = client.get("/portal/partner/cases")
    ack = client.post(f"/portal/partner/cases/{CASE_A1}/acknowledge", data={"version": "1", "csrf": csrf_of(page.text)})
    assert ack.status_code == 404
    assert client.get(f"/portal/listings/{A1}").status_code == 403  # partners have no listings
    client.cookies.clear()

    sign_in(client, "beta.user")
    assert client.get(f"/portal/listings/{A1}").status_code == 404
    assert client.get("/portal/brands/sua-acme").status_code == 404
    assert client.get("/portal/brands/sua-acme/edit").status_code == 404
    assert client.get("/portal/queue", params={"brand": "sua-acme"}).status_code == 404
    queue = client.get("/portal/queue").text
    assert "item/a1" not in queue and "Sữa Acme" not in queue and "item/b1" in queue
    assert client.get(f"/portal/cases/{CASE_A1}").status_code == 403  # enterprises do not move cases
    # A decision on another tenant's listing is refused before anything (no review:decide scope).
    assert _decide(client, [f"{A1}|sua-acme"], "dismiss").status_code == 403
    assert store.get_case(CASE_A1).record.state is CaseState.REFERRED


def test_two_inspectors_on_one_case_the_second_gets_409(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt")
    version, token = _case_version(client)
    first = client.post(
        f"/portal/cases/{CASE_A1}/transition",
        data={"to": "confirmed", "version": version, "csrf": token},
        follow_redirects=False,
    )
    assert first.status_code == 303
    stale = client.post(
        f"/portal/cases/{CASE_A1}/transition", data={"to": "dismissed", "version": version, "csrf": token}
    )
    assert stale.status_code == 409 and "người khác thay đổi" in stale.text
    assert store.get_case(CASE_A1).record.state is CaseState.CONFIRMED
    # A stale decision on the listing page is a conflict too.
    conflict = _decide(client, [f"{A1}|sua-acme"], "dismiss", version=version)
    assert conflict.status_code == 409 and "tải lại" in conflict.text


def test_bulk_decision_dismisses_every_selected_listing(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt")
    done = _decide(client, ["demo:a2|sua-acme", "demo:b1|keo-beta"], "dismiss", note="hàng thật")
    assert done.status_code == 303
    for key, brand in (("demo:a2", "sua-acme"), ("demo:b1", "keo-beta")):
        assert store.get_case(Case.make_id(key, brand)).record.state is CaseState.DISMISSED
    assert store.get_case(CASE_A1).record.state is CaseState.OPEN
    partly = _decide(client, ["demo:a3|sua-acme", "demo:nope|sua-acme"], "needs_info")
    assert partly.status_code == 404 and "demo:nope|sua-acme" in partly.text
    assert store.get_case(Case.make_id("demo:a3", "sua-acme")).record.review_status == "needs_info"


def test_enterprise_registers_and_edits_its_brand_with_clear_errors(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "acme.user")
    form = client.get("/portal/brands/new")
    assert form.status_code == 200 and 'value="acme"' in form.text and "readonly" in form.text
    base = {
        "csrf": csrf_of(form.text),
        "brand_id": "banh-acme",
        "owner_id": "beta",  # ignored: an enterprise registers only its own
        "owner_name": "Công ty Acme",
        "name": "Bánh <Acme>",
        "aliases": "banh acme\nBanhAcme",
        "trademarks": "123; 30; 2030-01-01",
        "products": "Bánh quy hộp; 45.000đ; BQ-1",
        "official_sellers": "shopee; 999; Acme Official; official",
        "crawl_interval_minutes": "360",
    }
    bad = client.post("/portal/brands/new", data=base)
    assert bad.status_code == 422
    assert "is not an IP Viet Nam number" in bad.text and "Chưa lưu được" in bad.text
    assert 'value="Bánh &lt;Acme&gt;"' in bad.text  # what was typed comes back, escaped
    bad_price = client.post("/portal/brands/new", data={**base, "products": "Bánh; rẻ lắm"})
    assert bad_price.status_code == 422 and "products, dòng 1" in bad_price.text
    good = client.post(
        "/portal/brands/new", data={**base, "trademarks": "4-0312345-000; 30; 2030-01-01"}, follow_redirects=False
    )
    assert good.status_code == 303, good.text
    brand = store.get_brand("banh-acme")
    assert brand is not None and brand.owner_id == "acme" and brand.products[0].reference_price_vnd == 45000
    page = client.get("/portal/brands/banh-acme")
    assert "Bánh &lt;Acme&gt;" in page.text and "45.000 ₫" in page.text
    assert "Đang chờ Ban Quản lý xác minh" in page.text  # registered by the enterprise: watched once verified
    edit = client.get("/portal/brands/banh-acme/edit")
    assert "4-0312345-000; 30; 2030-01-01" in edit.text
    changed = client.post(
        "/portal/brands/banh-acme/edit",
        data={**base, "trademarks": "4-0312345-000; 30", "negative_keywords": "vỏ hộp", "csrf": csrf_of(edit.text)},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert store.get_brand("banh-acme").negative_keywords == ["vỏ hộp"]
    listing = client.get("/portal/brands").text
    assert "banh-acme" in listing and "keo-beta" not in listing
    # The brand's page lists its flagged listings, escaped, highest score first.
    acme = client.get("/portal/brands/sua-acme").text
    assert "&lt;img src=x" in acme and "<img src=x" not in acme
    assert acme.index("/portal/listings/demo%3Aa1") < acme.index("/portal/listings/demo%3Aa2")


def test_report_a_listing_enters_the_inspectors_queue(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "acme.user")
    form = client.get("/portal/report")
    assert form.status_code == 200 and 'value="enterprise"' in form.text
    bad = client.post("/portal/report", data={"url": "not a url", "csrf": csrf_of(form.text)})
    assert bad.status_code == 422 and "http" in bad.text
    sent = client.post(
        "/portal/report",
        data={
            "url": "https://shopee.vn/sua-acme-gia-i.1.2",
            "note": "<b>giá rẻ bất thường</b>",
            "brand_id": "sua-acme",
            "csrf": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "received=rep-" in sent.headers["location"]
    assert "Đã nhận báo cáo" in client.get(sent.headers["location"]).text
    client.cookies.clear()
    sign_in(client, "lan.tt")
    queue = client.get("/portal/queue").text
    assert "báo cáo nhận được" in queue and "&lt;b&gt;giá rẻ bất thường&lt;/b&gt;" in queue
    report_id = re.search(r'value="(rep-[0-9a-f]+)"', queue).group(1)
    triaged = _decide(client, [report_id], "confirm")
    assert triaged.status_code == 303
    assert "báo cáo nhận được" not in client.get("/portal/queue", params={"status": "new"}).text
    confirmed = client.get("/portal/queue", params={"status": "confirmed"}).text
    assert report_id in confirmed


def test_case_pages_in_english(client: TestClient, store: Store) -> None:
    _seed(store)
    sign_in(client, "lan.tt", lang="en")
    page = client.get(f"/portal/cases/{CASE_A1}?lang=en").text
    assert "Change state" in page and "Chuyển trạng thái" not in page
    listing = client.get(f"/portal/listings/{A1}?lang=en").text
    assert "Price and sold history" in listing and "Price far below reference" in listing


def test_evidence_downloads_as_an_attachment_only_for_those_who_may_see_it(
    client: TestClient,
    store: Store,
    settings,
) -> None:
    from kcnguard.evidence import open_evidence

    _seed(store)
    digest = open_evidence(settings).put(b"a1")  # the seeded listing a1 names sha256(b"a1")
    sign_in(client, "lan.tt")
    raw = client.get(f"/portal/evidence/{digest}", params={"listing": A1})
    assert raw.status_code == 200 and raw.content == b"a1"
    assert raw.headers["content-type"] == "application/octet-stream"
    assert "attachment" in raw.headers["content-disposition"] and "sandbox" in raw.headers["content-security-policy"]
    client.cookies.clear()
    sign_in(client, "beta.user")
    assert client.get(f"/portal/evidence/{digest}", params={"listing": A1}).status_code == 404
