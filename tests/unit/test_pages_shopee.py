"""Shopee parser on real saved responses: item/get and a shop's item list; search built from them.

Expected values were written by reading the files in ../shared/data/shopee/.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from crawler.pages import ExtractionError, shopee

ITEM_URL = "https://shopee.vn/api/v4/item/get?itemid=3391609027&shopid=85794847"


def _item_get(shared_data: Path) -> dict:
    return json.loads((shared_data / "shopee" / "api-v4-item-get-3391609027.json").read_bytes())


def _shop_items(shared_data: Path) -> list:
    return json.loads((shared_data / "shopee" / "shop-items-trimmed-2021-09-28.json").read_bytes())


def test_item_get(shared_data: Path) -> None:
    body = (shared_data / "shopee" / "api-v4-item-get-3391609027.json").read_bytes()
    result = shopee.parse(body, ITEM_URL)
    assert len(result.listings) == 1
    listing = result.listings[0]
    assert listing.listing_id == "85794847.3391609027" and listing.key == "shopee:85794847.3391609027"
    assert listing.url == "https://shopee.vn/product/85794847/3391609027"
    assert listing.title.startswith("(BH 12 tháng) Sạc Nhanh PD 18W USB-C To Lightning")
    # 5000000000 / 100000 and 6500000000 / 100000
    assert listing.price == 50000 and listing.original_price == 65000 and listing.currency == "VND"
    assert listing.availability == "InStock"  # stock 31
    assert listing.seller.id == "85794847" and listing.seller.official is False  # is_official_shop false
    assert listing.sold_count == 729  # historical_sold, not the 30-day `sold` (229)
    assert listing.rating == pytest.approx(4.89007, abs=1e-4)
    assert listing.images == ["https://cf.shopee.vn/file/2c3eb5d46df5721d7d1b64cfdb0d4c6c"]
    assert listing.location == "Hà Nội" and listing.brand is None
    assert "brand" in result.missing and "seller.name" in result.missing


def test_old_item_envelope_and_official_shop(shared_data: Path) -> None:
    item = _item_get(shared_data)["data"]
    item.update(is_official_shop=True, stock=0, brand="Anker", shop_name="Anker Official Store")
    listing = shopee.parse(json.dumps({"item": item}).encode(), ITEM_URL).listings[0]
    assert listing.seller.official is True and listing.availability == "OutOfStock"
    assert listing.brand == "Anker" and listing.seller.name == "Anker Official Store"


def test_shop_item_list(shared_data: Path) -> None:
    result = shopee.parse(json.dumps(_shop_items(shared_data)).encode(), "https://shopee.vn/api/v4/shop/search_items")
    assert len(result.listings) == 80
    first = result.listings[0]
    assert first.listing_id == "179124960.8753697422"
    assert first.title.startswith("Nệm Massage Nhật Bản Color Foam Goodnight")
    assert first.price == 2290000 and first.original_price == 4290000
    # price_before_discount -1 means "no such price", not a negative one
    gift = next(x for x in result.listings if x.listing_id == "179124960.10046611036")
    assert gift.title == "[QUÀ TẶNG KHÔNG BÁN] Áo mưa Vua Nệm" and gift.price == 230000 and gift.original_price is None


def test_search_response_pages_by_newest(shared_data: Path) -> None:
    items = _shop_items(shared_data)[:60]
    url = shopee.search_url("nệm", page=1)
    body = json.dumps({"items": [{"item_basic": i, "itemid": i["itemid"]} for i in items], "nomore": False}).encode()
    result = shopee.parse(body, url)
    assert len(result.listings) == 60
    assert dict(parse_qsl(urlsplit(result.next_url or "").query)) == dict(
        parse_qsl(urlsplit(shopee.search_url("nệm", page=2)).query)
    )
    last = shopee.parse(json.dumps({"items": items[:5], "nomore": True}).encode(), url)
    assert len(last.listings) == 5 and last.next_url is None
    empty = shopee.parse(b'{"items": null, "nomore": true, "total_count": 0}', url)
    assert empty.listings == [] and empty.next_url is None


def test_renamed_price_is_named(shared_data: Path) -> None:
    data = _item_get(shared_data)
    item = data["data"]
    item["price_vnd"] = item.pop("price")
    item.pop("price_min")
    with pytest.raises(ExtractionError) as caught:
        shopee.parse(json.dumps(data).encode(), ITEM_URL)
    assert caught.value.field == "data.price"


def test_renamed_shopid_is_named(shared_data: Path) -> None:
    data = _item_get(shared_data)
    data["data"]["shop_id"] = data["data"].pop("shopid")
    with pytest.raises(ExtractionError) as caught:
        shopee.parse(json.dumps(data).encode(), ITEM_URL)
    assert caught.value.field == "data.shopid"


def test_error_answer_broken_json_and_html() -> None:
    with pytest.raises(ExtractionError) as caught:
        shopee.parse(b'{"error": 90309999, "error_msg": null, "data": null}', ITEM_URL)
    assert caught.value.field == "data.itemid" and "90309999" in str(caught.value)
    with pytest.raises(ExtractionError) as caught:
        shopee.parse(b'{"data": {"itemid": 1, "shopid"', ITEM_URL)
    assert caught.value.field == "json"
    with pytest.raises(ExtractionError) as caught:
        shopee.parse(b"<html><body>captcha</body></html>", ITEM_URL)
    assert caught.value.field == "json"


def test_urls() -> None:
    assert shopee.item_url("85794847.3391609027") == ITEM_URL
    assert "newest=120" in shopee.search_url("sạc nhanh", page=3) and "keyword=s%E1%BA%A1c" in shopee.search_url("sạc")
    with pytest.raises(ValueError):
        shopee.item_url("3391609027")
