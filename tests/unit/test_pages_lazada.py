"""Lazada parser on real saved responses: catalog listItems (Vietnam) and a search page (the Philippines).

Expected values were written by reading the files in ../shared/data/lazada/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.pages import ExtractionError, lazada

CATALOG_URL = "https://www.lazada.vn/zinus-official-store/?ajax=true&from=wangpu&page=1"
SEARCH_PH = "https://www.lazada.com.ph/catalog/?q=diapers+watson"


def _items(shared_data: Path) -> list:
    return json.loads((shared_data / "lazada" / "listitems-zinus-official-store-2021-09-22.json").read_bytes())


def _catalog(items: list, page: int = 1, total: int = 100) -> bytes:
    return json.dumps(
        {"mods": {"listItems": items}, "mainInfo": {"page": str(page), "pageSize": "40", "totalResults": str(total)}}
    ).encode()


def test_list_items_saved_on_their_own(shared_data: Path) -> None:
    body = (shared_data / "lazada" / "listitems-zinus-official-store-2021-09-22.json").read_bytes()
    result = lazada.parse(body, CATALOG_URL)
    assert len(result.listings) == 56
    pillow = result.listings[0]
    assert pillow.listing_id == "1075360430"
    assert pillow.title == "[FREESHIP MỌI ĐƠN]Gối Zinus Contour Memory Foam Cao Cấp và Êm Ái"
    assert pillow.price == 310000 and pillow.original_price == 478000 and pillow.currency == "VND"
    assert pillow.url.startswith("https://www.lazada.vn/products/freeship-moi-dongoi-zinus-contour")
    assert pillow.brand == "Zinus" and pillow.sku == "1075360430_VNAMZ" and pillow.availability == "InStock"
    assert pillow.seller.id == "200162211305" and pillow.seller.name == "Zinus Official Store"
    assert pillow.rating == pytest.approx(4.7273, abs=1e-4) and pillow.location == "Hồ Chí Minh"
    assert pillow.images == ["https://vn-test-11.slatic.net/p/7399e456d9a8d06d52117ae6300ffb2a.jpg"]
    mattress = next(x for x in result.listings if x.listing_id == "735504794")
    assert mattress.price == 6220000 and mattress.original_price == 8892000 and mattress.availability == "OutOfStock"
    # ratingScore "0" with no reviews: unrated
    unrated = next(x for x in result.listings if x.listing_id == "943670751")
    assert unrated.rating is None and unrated.price == 1605000
    assert "sold_count" in result.missing  # this source repo kept no itemSoldCntShow


def test_catalog_json_pages_and_reads_lazmall_and_sold(shared_data: Path) -> None:
    items = _items(shared_data)[:40]
    items[0] = {**items[0], "itemSoldCntShow": "Đã bán 1,2K", "icons": [{"domClass": "lazMall", "type": "img"}]}
    result = lazada.parse(_catalog(items), CATALOG_URL)
    assert len(result.listings) == 40
    assert result.next_url == CATALOG_URL.replace("page=1", "page=2")
    assert result.listings[0].sold_count == 1200 and result.listings[0].seller.official is True
    assert result.listings[1].seller.official is False
    last = lazada.parse(_catalog(items, page=3, total=100), CATALOG_URL)
    assert last.next_url is None
    empty = lazada.parse(b'{"mods": {"filter": {}}, "mainInfo": {"totalResults": "0"}}', CATALOG_URL)
    assert empty.listings == [] and empty.next_url is None


def test_search_page_of_the_philippine_site(shared_data: Path) -> None:
    body = (shared_data / "lazada" / "search-page-lazada-com-ph-diapers.html").read_bytes()
    result = lazada.parse(body, SEARCH_PH)
    assert len(result.listings) == 40
    assert result.next_url == "https://www.lazada.com.ph/catalog/?q=diapers%20watson&page=2"
    assert {x.currency for x in result.listings} == {"PHP"}
    first = result.listings[0]
    assert first.listing_id == "2894375047"
    assert first.title == "WATSONS Love My Little Ones Baby Diaper Dry Pants Extra Large 40s"
    assert first.price == 305 and first.sold_count == 2000  # "2k+ sold" is a lower bound
    assert first.location == "Laguna" and first.seller.official is True  # LazMall badge
    assert (
        first.url
        == "https://www.lazada.com.ph/products/watsons-love-my-little-ones-baby-diaper-dry-pants-extra-large-40s-i2894375047.html"
    )
    puffs = next(x for x in result.listings if x.listing_id == "265078143")
    assert puffs.price == 79 and puffs.sold_count == 9999  # "9,999+ sold"
    pants = next(x for x in result.listings if x.listing_id == "4271286425")
    assert pants.price == pytest.approx(936.64) and pants.location == "Abra" and pants.seller.official is False
    assert sum(x.seller.official for x in result.listings) == 37
    # Saved by a browser: pictures point at ./lazada_files/, which is no address to keep.
    assert all(x.images == [] for x in result.listings)


def test_renamed_price_is_named(shared_data: Path) -> None:
    items = _items(shared_data)
    items[5]["salePrice"] = items[5].pop("price")
    with pytest.raises(ExtractionError) as caught:
        lazada.parse(_catalog(items), CATALOG_URL)
    assert caught.value.field == "mods.listItems[5].price"


def test_renamed_list_items_is_named() -> None:
    with pytest.raises(ExtractionError) as caught:
        lazada.parse(b'{"mainInfo": {}, "items": []}', CATALOG_URL)
    assert caught.value.field == "mods.listItems"


def test_search_page_card_without_price_is_named(shared_data: Path) -> None:
    body = (shared_data / "lazada" / "search-page-lazada-com-ph-diapers.html").read_bytes()
    with pytest.raises(ExtractionError) as caught:
        lazada.parse(body.replace("₱".encode(), b""), SEARCH_PH)
    assert caught.value.field == "product-item[0].price"


def test_garbage_gives_clear_errors() -> None:
    with pytest.raises(ExtractionError) as caught:
        lazada.parse(b'{"mods": {"listItems": [', CATALOG_URL)
    assert caught.value.field == "json"
    with pytest.raises(ExtractionError) as caught:
        lazada.parse(b"<html><body><div id='captcha'>slide to verify</div></body></html>", SEARCH_PH)
    assert caught.value.field == "product-item"


def test_currency_follows_the_domain_and_urls() -> None:
    assert lazada.currency_for("https://www.lazada.vn/catalog/") == "VND"
    assert lazada.currency_for("https://www.lazada.co.id/catalog/") == "IDR"
    assert lazada.search_url("gối zinus", 2) == "https://www.lazada.vn/catalog/?ajax=true&page=2&q=g%E1%BB%91i%20zinus"
    assert lazada.item_url("1075360430") == "https://www.lazada.vn/products/i1075360430.html"


def test_search_page_with_embedded_page_data(shared_data: Path) -> None:
    """Lazada's server-rendered search page carries the catalog JSON as window.pageData."""
    state = json.loads(_catalog(_items(shared_data)[:3], page=1, total=3))
    body = f"<html><script>window.pageData = {json.dumps(state)};</script><body></body></html>".encode()
    result = lazada.parse(body, "https://www.lazada.vn/catalog/?q=zinus")
    assert [x.listing_id for x in result.listings] == ["1075360430", "1285643810", _items(shared_data)[2]["itemId"]]
    assert result.listings[0].currency == "VND" and result.next_url is None


@pytest.mark.parametrize(
    ("shown", "sold"),
    [("2k+ sold", 2000), ("9,999+ sold", 9999), ("1.2K sold", 1200), ("Đã bán 1,2K", 1200), ("Đã bán 120", 120),
     ("35 sold", 35), ("mới", None)],
)  # fmt: skip
def test_sold_counts_as_lazada_shows_them(shown: str, sold: int | None) -> None:
    assert lazada._sold(shown) == sold
