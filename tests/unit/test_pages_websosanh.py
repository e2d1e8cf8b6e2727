"""websosanh parser on the real saved results fragment; expected values read from ../shared/data/websosanh/."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pages import ExtractionError, websosanh

URL = "https://websosanh.vn/s/tivi.htm?pi=1"


def _body(shared_data: Path) -> bytes:
    return (shared_data / "websosanh" / "results-fragment.html").read_bytes()


def test_results_fragment(shared_data: Path) -> None:
    result = websosanh.parse(_body(shared_data), URL)
    assert len(result.listings) == 41
    assert result.next_url == "https://websosanh.vn/s/tivi.htm?pi=2"
    sony = result.listings[0]
    assert sony.listing_id == "8314637352104471854.1977331908854569119"
    assert sony.title == "Tivi Sony 4K 65 inch KD-65X9500H"
    assert sony.price == 28150000 and sony.currency == "VND"
    assert sony.seller.id == "1977331908854569119" and sony.seller.name == "dienmaykalong.com"
    assert sony.location == "Hà Nội, Toàn Quốc"
    assert sony.url.startswith("http://websosanh.vn/tivi-sony-4k-65-inch-kd-65x9500h/8314637352104471854/")
    # the lazy-load placeholder (a data: URI) is not an image
    assert sony.images == [
        "https://img.websosanh.vn/v2/users/wss/images/tivi-sony-4k-65-inch/80ekv93yy6h39.jpg?compress=85&width=200"
    ]
    adapter = result.listings[2]
    assert adapter.title == "ADAPTER TIVI SONY 195V – 6.2A" and adapter.price == 400000
    assert adapter.seller.name == "lazada.vn"
    last = result.listings[-1]
    assert last.title == "REMOTE TIVI SONY" and last.price == 55000
    assert "sold_count" in result.missing and "rating" in result.missing


def test_price_text_used_when_the_attribute_is_gone(shared_data: Path) -> None:
    body = _body(shared_data).replace(b'price="28150000"', b"")
    assert websosanh.parse(body, URL).listings[0].price == 28150000  # from "28.150.000 đ"


def test_offer_without_any_price_is_named(shared_data: Path) -> None:
    body = _body(shared_data).replace(b'price="28150000">28.150.000 \xc4\x91', b">Li\xc3\xaan h\xe1\xbb\x87")
    with pytest.raises(ExtractionError) as caught:
        websosanh.parse(body, URL)
    assert caught.value.field == "li.product-item[0].product-price"


def test_renamed_item_class_and_garbage() -> None:
    with pytest.raises(ExtractionError) as caught:
        websosanh.parse(b"<html><body><p>Trang b\xe1\xba\xa3o tr\xc3\xac</p></body></html>", URL)
    assert caught.value.field == "li.product-item"
    empty = websosanh.parse(b'<ul class="product-wrap"></ul>', URL)
    assert empty.listings == [] and empty.next_url is None


def test_urls() -> None:
    assert websosanh.search_url("tivi sony", 2) == "https://websosanh.vn/s/tivi%20sony.htm?pi=2"
    assert websosanh.item_url("8314637352104471854.1977331908854569119").endswith(
        "/8314637352104471854/1977331908854569119/direct.htm"
    )
