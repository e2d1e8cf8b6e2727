"""The demo marketplace app: search, pagination, product pages, errors and escaping."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

from demo.catalogue import load_catalogue, parse_listing
from demo.marketplace import PAGE_SIZE, create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), base_url="http://demo.test")


def _ids(html: str) -> list[str]:
    return re.findall(r'class="result" data-listing-id="([^"]+)"', html)


def test_home_is_vietnamese_and_links_official_listings(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'lang="vi"' in page.text
    assert "Gian hàng chính hãng" in page.text
    assert "/product/vs-001" in page.text


def test_search_ignores_case_and_diacritics(client: TestClient) -> None:
    accented = _ids(client.get("/search", params={"q": "Sen Hồng"}).text)
    plain = _ids(client.get("/search", params={"q": "sen hong"}).text)
    shouting = _ids(client.get("/search", params={"q": "SEN HONG"}).text)
    assert accented and accented == plain == shouting
    assert {"sh-001", "sh-005", "sh-008"} <= set(accented)
    assert "vs-001" not in accented


def test_search_paginates_with_a_next_link(client: TestClient) -> None:
    expected = [listing.id for listing in load_catalogue() if "vinastep" in listing.title.casefold().replace(".", "")]
    first = client.get("/search", params={"q": "vinastep"})
    assert len(_ids(first.text)) == PAGE_SIZE
    assert 'class="next-page" rel="next" href="/search?q=vinastep&amp;page=2"' in first.text
    second = client.get("/search", params={"q": "vinastep", "page": 2})
    assert 'class="next-page"' not in second.text
    seen = _ids(first.text) + _ids(second.text)
    assert len(seen) == len(set(seen)) > PAGE_SIZE
    assert set(expected) <= set(seen)


def test_search_without_match_or_with_bad_input(client: TestClient) -> None:
    empty = client.get("/search", params={"q": "khongcogi"})
    assert empty.status_code == 200 and "Không tìm thấy sản phẩm" in empty.text and not _ids(empty.text)
    assert client.get("/search", params={"q": "vinastep", "page": "abc"}).status_code == 400
    assert client.get("/search", params={"q": "vinastep", "page": 0}).status_code == 400
    assert client.get("/search", params={"q": "x" * 500}).status_code == 400
    beyond = client.get("/search", params={"q": "vinastep", "page": 50})
    assert beyond.status_code == 200 and not _ids(beyond.text)


def test_product_page_has_json_ld_and_dom_fields(client: TestClient) -> None:
    page = client.get("/product/vs-001")
    assert page.status_code == 200
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S)
    assert block
    data = json.loads(block.group(1))
    assert data["@type"] == "Product" and data["sku"] == "vs-001"
    assert data["offers"]["price"] == 1290000 and data["offers"]["priceCurrency"] == "VND"
    assert data["image"][0] == "http://demo.test/images/vs-001-1.svg"
    assert 'class="product-price" data-price="1290000">1.290.000₫' in page.text
    assert 'data-seller-id="vinastep-official" data-official="true"' in page.text


def test_unknown_product_and_route_are_404_in_vietnamese(client: TestClient) -> None:
    missing = client.get("/product/khong-ton-tai")
    assert missing.status_code == 404 and "Sản phẩm không tồn tại" in missing.text
    route = client.get("/khong-co-trang-nay")
    assert route.status_code == 404 and "Không tìm thấy trang" in route.text


def test_hostile_text_is_escaped_in_html_and_json_ld() -> None:
    raw = {
        "id": "evil-1",
        "title": 'Giày </script><script>alert("x")</script>',
        "description": "<img src=x onerror=alert(1)> & <!-- co -->",
        "price": 1000,
        "seller": {"id": "s", "name": "<b>Shop</b>", "official": False},
        "images": ["/images/evil-1.svg"],
    }
    client = TestClient(create_app([parse_listing(raw)]), base_url="http://demo.test")
    page = client.get("/product/evil-1").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Shop</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert" in page
    assert page.count("</script>") == 1  # only the JSON-LD block's own end tag
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block and json.loads(block.group(1))["name"] == raw["title"]
    search = client.get("/search", params={"q": "<script>giày"}).text
    assert "<script>giày" not in search


def test_robots_allows_crawling_listings(client: TestClient) -> None:
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert "User-agent: *" in robots.text and "Allow: /" in robots.text and "Disallow: /cart" in robots.text


def test_images_are_local_placeholders(client: TestClient) -> None:
    image = client.get("/images/vs-001-1.svg")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in image.text and "http" not in image.text.replace("http://www.w3.org/2000/svg", "")
    assert client.get("/images/..%2Fsecret.svg").status_code == 404


def test_broken_pages_render_without_a_usable_price(client: TestClient) -> None:
    missing = client.get("/product/br-001").text
    assert 'class="product-price">Liên hệ' in missing and '"price"' not in missing
    garbage = client.get("/product/br-002").text
    assert '"price": "liên hệ zalo"' in garbage
