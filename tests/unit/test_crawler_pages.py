"""Page objects on pages the demo app renders: every field, the DOM fallback, broken and hostile pages."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from crawler.pages import ExtractionError
from crawler.pages.base import vnd_text
from crawler.pages.demo import MAX_TITLE, DemoProductPage, DemoSearchPage
from demo.catalogue import parse_listing
from demo.marketplace import create_app

BASE = "http://demo.test"
AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
_JSON_LD = re.compile(rb'<script type="application/ld\+json">.*?</script>', re.S)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), base_url=BASE)


def _page(client: TestClient, path: str) -> tuple[str, bytes]:
    response = client.get(path)
    assert response.status_code == 200
    return str(response.url), response.content


def test_product_page_gives_every_field(client: TestClient) -> None:
    url, body = _page(client, "/product/vs-001")
    listing = DemoProductPage(url, body, captured_at=AT).listing(crawl_job_id="job-1", query_brand_id="vinastep")
    assert listing.marketplace == "demo" and listing.listing_id == "vs-001" and listing.key == "demo:vs-001"
    assert listing.url == f"{BASE}/product/vs-001"
    assert listing.title == "Giày chạy bộ Vinastep Runner V2 chính hãng - Đệm êm, thoáng khí"
    assert listing.description == "Sản phẩm chính hãng Vinastep, bảo hành 12 tháng. Sản xuất tại KCN Hòa Phú."
    assert listing.price == 1290000 and listing.original_price == 1490000 and listing.currency == "VND"
    assert listing.seller.id == "vinastep-official" and listing.seller.name == "Vinastep Official Store"
    assert listing.seller.official is True
    assert listing.sold_count == 2310 and listing.rating == 4.9
    assert listing.images == [f"{BASE}/images/vs-001-1.svg", f"{BASE}/images/vs-001-2.svg"]
    assert listing.category == "Giày dép nam nữ" and listing.location == "Hà Nội"
    assert listing.captured_at == AT
    assert listing.evidence_digest == hashlib.sha256(body).hexdigest()
    assert listing.crawl_job_id == "job-1" and listing.query_brand_id == "vinastep"


def test_ordinary_seller_is_not_official(client: TestClient) -> None:
    url, body = _page(client, "/product/vs-005")
    listing = DemoProductPage(url, body, captured_at=AT).listing()
    assert listing.title == "Giày V.I.N.A.S.T.E.P Runner like auth hàng loại 1"
    assert listing.seller.official is False and listing.seller.id == "tiem-sneaker-re"
    assert listing.price == 199000 and listing.original_price is None


def test_dom_fallback_gives_the_same_listing_without_json_ld(client: TestClient) -> None:
    url, body = _page(client, "/product/sh-005")
    with_ld = DemoProductPage(url, body, captured_at=AT).listing()
    without = _JSON_LD.sub(b"", body)
    assert b"ld+json" not in without
    dom_only = DemoProductPage(url, without, captured_at=AT).listing()
    ignore = {"evidence_digest", "rating"}
    assert dom_only.model_dump(exclude=ignore) == with_ld.model_dump(exclude=ignore)
    assert dom_only.rating == with_ld.rating == 4.0
    assert dom_only.evidence_digest == hashlib.sha256(without).hexdigest() != with_ld.evidence_digest


def test_broken_json_ld_falls_back_to_the_dom(client: TestClient) -> None:
    url, body = _page(client, "/product/lm-001")
    broken = _JSON_LD.sub(b'<script type="application/ld+json">{"@type": "Product", "name": </script>', body)
    listing = DemoProductPage(url, broken, captured_at=AT).listing()
    assert listing.price == 350000 and listing.title.startswith("Sạc nhanh Lumitek 33W")


@pytest.mark.parametrize("listing_id", ["br-001", "br-002"])
def test_broken_price_raises_naming_the_field(client: TestClient, listing_id: str) -> None:
    url, body = _page(client, f"/product/{listing_id}")
    with pytest.raises(ExtractionError, match=r"^price not found: JSON-LD offers\.price") as caught:
        DemoProductPage(url, body).listing()
    assert caught.value.field == "price"


def test_missing_title_raises_naming_the_field() -> None:
    body = (
        b'<html><body><article class="product" data-listing-id="x1"><div class="product-price">10.000\xe2\x82\xab</div>'
    )
    with pytest.raises(ExtractionError, match=r"^title not found"):
        DemoProductPage(f"{BASE}/product/x1", body).listing()


def test_invalid_field_value_raises_naming_the_field() -> None:
    body = (
        '<h1 class="product-title">Giày</h1><div class="product-price" data-price="10000"></div>'
        '<span class="product-rating" data-rating="9.5"></span>'
    ).encode()
    with pytest.raises(ExtractionError, match=r"^rating not found: value 9\.5 is invalid"):
        DemoProductPage(f"{BASE}/product/x2", body).listing()


def test_hostile_text_is_kept_as_text_and_huge_titles_are_cut() -> None:
    raw = {
        "id": "evil-1",
        "title": "Giày Vinastep <script>alert(1)</script> " + "siêu cấp " * 2000,
        "description": "<img src=x onerror=alert(1)>\x1b[31m",
        "price": 99000,
        "seller": {"id": "s1", "name": "<b>Shop</b>", "official": False},
        "images": ["/images/evil-1.svg", "javascript:alert(1)"],
    }
    client = TestClient(create_app([parse_listing(raw)]), base_url=BASE)
    url, body = _page(client, "/product/evil-1")
    listing = DemoProductPage(url, body, captured_at=AT).listing()
    assert listing.title.startswith("Giày Vinastep <script>alert(1)</script> siêu cấp")
    assert len(listing.title) <= MAX_TITLE
    assert listing.description == "<img src=x onerror=alert(1)>[31m"  # control characters stripped
    assert listing.seller.name == "<b>Shop</b>"
    assert listing.images == [f"{BASE}/images/evil-1.svg"]


def test_search_page_gives_product_links_and_next_page(client: TestClient) -> None:
    url, body = _page(client, "/search?q=vinastep")
    page = DemoSearchPage(url, body)
    urls = page.product_urls()
    assert len(urls) == 12 and urls[0] == f"{BASE}/product/vs-001"
    assert all(u.startswith(f"{BASE}/product/") for u in urls)
    assert page.next_url() == f"{BASE}/search?q=vinastep&page=2"
    url, body = _page(client, "/search?q=vinastep&page=2")
    last = DemoSearchPage(url, body)
    assert last.next_url() is None and last.product_urls()
    assert not set(last.product_urls()) & set(urls)


def test_a_product_page_is_not_a_search_page(client: TestClient) -> None:
    url, body = _page(client, "/product/vs-001")
    with pytest.raises(ExtractionError, match=r"^search results not found"):
        DemoSearchPage(url, body)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.290.000₫", 1290000), ("1,290,000 đ", 1290000), ("99000 VND", 99000), ("Liên hệ", None), ("1.2.3", None)],
)
def test_shown_prices(text: str, value: float | None) -> None:
    assert vnd_text(text) == value
