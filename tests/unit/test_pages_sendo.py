"""Sendo parser on real saved responses: a shop's product list, product detail, and the two without listings.

Expected values were written by reading the files in ../shared/data/sendo/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.pages import ExtractionError, sendo

SHOP_URL = "https://shop-home.sendo.vn/api/v1/product/filter?limit=30&page=1&platform=1&seller_admin_id=717078"
DETAIL_URL = "https://detail-api.sendo.vn/full/cap-sac-iphone-ipad-sac-nhanh-24a-cong-ket-noi-lightning-day-du-an-toan-chac-chan-chieu-dai-1-met-34406369"
TITLE = "Cáp sạc iPhone iPad sạc nhanh 2.4A cổng kết nối lightning dây dù an toàn chắc chắn chiều dài 1 mét"


def _read(shared_data: Path, name: str) -> bytes:
    return (shared_data / "sendo" / name).read_bytes()


def test_shop_product_list(shared_data: Path) -> None:
    result = sendo.parse(_read(shared_data, "data__data.json"), SHOP_URL)
    assert len(result.listings) == 30
    # total 121, 30 a page: there is a page 2
    assert result.next_url is not None and "page=2" in result.next_url and "seller_admin_id=717078" in result.next_url
    cable = result.listings[0]
    assert cable.listing_id == "34406369" and cable.title == TITLE
    assert cable.price == 49000 and cable.original_price == 129000 and cable.currency == "VND"
    assert (
        cable.url
        == "https://www.sendo.vn/cap-sac-iphone-ipad-sac-nhanh-24a-cong-ket-noi-lightning-day-du-an-toan-chac-chan-chieu-dai-1-met-34406369.html"
    )
    assert cable.seller.id == "717078" and cable.seller.official is True  # shop_mall badge
    assert cable.sold_count == 219 and cable.rating == pytest.approx(4.878049) and cable.availability == "InStock"
    mouse = result.listings[1]
    assert mouse.listing_id == "34401196" and mouse.price == 99000 and mouse.original_price == 190000
    assert mouse.sold_count == 120 and mouse.rating == 4.8


def test_last_page_has_no_next() -> None:
    body = json.dumps({"data": {"total": 31, "list": []}}).encode()
    result = sendo.parse(body, SHOP_URL.replace("page=1", "page=2"))
    assert result.listings == [] and result.next_url is None


def test_product_detail(shared_data: Path) -> None:
    result = sendo.parse(_read(shared_data, "datainfo__datainfo.json"), DETAIL_URL)
    listing = result.listings[0]
    assert listing.listing_id == "34406369" and listing.title == TITLE
    assert listing.price == 49000 and listing.original_price == 129000
    assert listing.brand == "ACOME" and listing.sku == "AKL-010" and listing.availability == "InStock"
    assert listing.seller.id == "717078" and listing.seller.name == "VIVAN Official Store"
    assert listing.seller.official is True  # shop_mall 1
    assert listing.sold_count == 219 and listing.rating == 4.9
    assert listing.category == "Cáp sạc đa năng" and listing.location == "TP Hồ Chí Minh"
    assert (
        len(listing.images) == 5
        and listing.images[0] == "https://media3.scdn.vn/img4/2020/10_01/zo4aBZj0cOgSBpv7ls8n.jpg"
    )
    assert (
        listing.url
        == "https://www.sendo.vn/cap-sac-iphone-ipad-sac-nhanh-24a-cong-ket-noi-lightning-day-du-an-toan-chac-chan-chieu-dai-1-met-34406369.html"
    )


def test_search_list_shape(shared_data: Path) -> None:
    items = json.loads(_read(shared_data, "data__data.json"))["data"]["list"]
    body = json.dumps({"data": items[:10], "meta_data": {"total_count": 25}}).encode()
    result = sendo.parse(body, sendo.search_url("cáp sạc", 1).replace("size=60", "size=10"))
    assert len(result.listings) == 10 and "page=2" in (result.next_url or "")


def test_responses_without_listings_are_refused_with_the_reason(shared_data: Path) -> None:
    with pytest.raises(ExtractionError, match="collection list"):
        sendo.parse(
            _read(shared_data, "data__category.json"), "https://api.sendo.vn/onsite-services/shop/collection/external"
        )
    with pytest.raises(ExtractionError, match="reviews"):
        sendo.parse(
            _read(shared_data, "datainfo__datacomment.json"), "https://ratingapi.sendo.vn/product/34406369/rating"
        )


def test_renamed_final_price_is_named(shared_data: Path) -> None:
    data = json.loads(_read(shared_data, "data__data.json"))
    for item in data["data"]["list"]:
        item["sale_price"] = item.pop("final_price")
        item.pop("price")
    with pytest.raises(ExtractionError) as caught:
        sendo.parse(json.dumps(data).encode(), SHOP_URL)
    assert caught.value.field == "data.list[0].final_price"


def test_renamed_detail_name_is_named(shared_data: Path) -> None:
    data = json.loads(_read(shared_data, "datainfo__datainfo.json"))
    data["data"]["product_name"] = data["data"].pop("name")
    with pytest.raises(ExtractionError) as caught:
        sendo.parse(json.dumps(data).encode(), DETAIL_URL)
    assert caught.value.field == "data.name"


def test_garbage() -> None:
    with pytest.raises(ExtractionError) as caught:
        sendo.parse(b"<!doctype html><title>502 Bad Gateway</title>", SHOP_URL)
    assert caught.value.field == "json"
    with pytest.raises(ExtractionError) as caught:
        sendo.parse(b'{"status": 0, "message": "fail"}', SHOP_URL)
    assert caught.value.field == "data"
