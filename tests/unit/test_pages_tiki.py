"""Tiki parser on real saved responses: product API, product and category pages, seller-store lists.

Expected values were written by reading the files in ../shared/data/tiki/.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.pages import ExtractionError, tiki

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
API = "https://tiki.vn/api/v2/products/"


def _api(shared_data: Path, product_id: str) -> bytes:
    return (shared_data / "tiki" / "api-v2-products" / f"{product_id}.json").read_bytes()


def test_product_api_official_store_with_discount(shared_data: Path) -> None:
    body = _api(shared_data, "36079551")
    result = tiki.parse(body, API + "36079551", captured_at=AT)
    assert len(result.listings) == 1 and result.next_url is None
    listing = result.listings[0]
    assert listing.marketplace == "tiki" and listing.listing_id == "36079551"
    assert listing.title == "Áo Len Nữ Thu Đông Kiểu Khoác Nhẹ Cardigan Thêu Hoa Mẫu Tay Bồng ALN022 MayHomes"
    assert listing.price == 175000 and listing.original_price == 198000 and listing.currency == "VND"
    assert listing.url.startswith("https://tiki.vn/ao-len-nu-thu-dong-kieu-khoac-nhe-cardigan")
    assert listing.url.endswith("-p36079551.html?spid=36079555")
    assert listing.brand == "MAYHOMES" and listing.sku == "2799432578765" and listing.gtin is None
    assert listing.availability == "InStock"
    assert listing.seller.id == "5826" and listing.seller.name == "MAYHOMES Official Store"
    assert listing.seller.official is True  # badges_new is_authentic
    assert listing.sold_count == 80 and listing.rating == 4.2
    assert len(listing.images) == 4 and all(
        i.startswith("https://salt.tikicdn.com/cache/w1200/") for i in listing.images
    )
    assert listing.category == "Áo cardigan nữ"
    assert listing.captured_at == AT and listing.evidence_digest == hashlib.sha256(body).hexdigest()
    assert "gtin" in result.missing and "brand" not in result.missing


def test_product_api_ordinary_seller_unrated_and_unsold(shared_data: Path) -> None:
    listing = tiki.parse(_api(shared_data, "101273319"), API + "101273319").listings[0]
    assert listing.title == "Áo Khoác len nữ Sang Trọng - AKL89445" and listing.price == 298000
    assert listing.seller.official is False and listing.seller.name == "Chuyên thời trang nam nữ CD"
    assert listing.brand == "OEM" and listing.sku == "5071782946482"
    # rating_average 0 with review_count 0 is "not rated yet"; quantity_sold is null
    assert listing.rating is None and listing.sold_count is None


@pytest.mark.parametrize(
    ("product_id", "title_start", "price", "seller", "sold", "rating"),
    [
        ("114432824", "Áo khoác len cadigan blackpink", 145000, "HT Shop Clothing", 3, 5.0),
        ("199021738", "Áo Khoác Cardigan Nữ Cổ V", 234220, "MAYHOMES Official Store", 43, 5.0),
        ("68229643", None, 99000, "ArcticHunter Store", 48, 4.0),
        ("270987734", None, 99900, "L2MStore", 1, None),
    ],
)
def test_product_api_values(shared_data, product_id, title_start, price, seller, sold, rating) -> None:
    listing = tiki.parse(_api(shared_data, product_id), API + product_id).listings[0]
    assert listing.listing_id == product_id and listing.price == price
    assert listing.seller.name == seller and listing.sold_count == sold and listing.rating == rating
    if title_start:
        assert listing.title.startswith(title_start)


def test_every_saved_product_api_response_parses(shared_data: Path) -> None:
    files = sorted((shared_data / "tiki" / "api-v2-products").glob("*.json"))
    assert len(files) == 40
    for path in files:
        listing = tiki.parse(path.read_bytes(), API + path.stem).listings[0]
        assert listing.listing_id == path.stem and listing.price > 0 and listing.seller.id and listing.images


def test_product_page_reads_the_embedded_product(shared_data: Path) -> None:
    body = (shared_data / "tiki" / "html" / "product-120552065.html").read_bytes()
    url = "https://tiki.vn/binh-giu-nhiet-inox-304-elmich-el-8013ol-dung-tich-480ml-p120552065.html?spid=120552067"
    listing = tiki.parse(body, url, captured_at=AT).listings[0]
    assert listing.listing_id == "120552065"
    assert listing.title == "Bình giữ nhiệt inox 304 Elmich EL-8013OL dung tích 480ml"
    # The page's own price (JSON-LD and embedded data agree); the source repo's 111720 was a promotion.
    assert listing.price == 147000 and listing.original_price == 389000
    assert listing.brand == "Elmich" and listing.sku == "1246710599726"
    assert listing.seller.id == "1" and listing.seller.name == "Tiki Trading" and listing.seller.official is True
    assert listing.sold_count == 2326 and listing.rating == 4.8 and listing.availability == "InStock"
    assert listing.category == "Bình giữ nhiệt"


def test_product_page_without_embedded_data_falls_back_to_json_ld(shared_data: Path) -> None:
    body = (shared_data / "tiki" / "html" / "product-120552065.html").read_bytes()
    stripped = re.sub(rb'<script id="__NEXT_DATA__".*?</script>', b"", body, flags=re.S)
    assert stripped != body
    url = "https://tiki.vn/binh-giu-nhiet-inox-304-elmich-el-8013ol-dung-tich-480ml-p120552065.html"
    listing = tiki.parse(stripped, url).listings[0]
    assert listing.listing_id == "120552065" and listing.price == 147000 and listing.original_price == 389000
    assert listing.brand == "Elmich" and listing.sku == "1246710599726" and listing.mpn == "1246710599726"
    assert listing.seller.name == "Tiki Trading" and listing.rating == 4.8 and listing.availability == "InStock"


def test_category_page_lists_each_product_once_and_links_the_next_page(shared_data: Path) -> None:
    body = (shared_data / "tiki" / "html" / "category-do-dung-phong-an.html").read_bytes()
    result = tiki.parse(body, "https://tiki.vn/phong-an/c1954")
    # 55 slots, 8 of them sponsored repeats of organic results
    assert len(result.listings) == 47 and len({x.listing_id for x in result.listings}) == 47
    assert result.next_url == "https://tiki.vn/phong-an/c1954?page=2"
    first = result.listings[0]
    assert first.listing_id == "275367488" and first.title == "Bình giữ nhiệt inox 304 Elmich EL8295 dung tích 500ml"
    assert first.price == 176000 and first.original_price == 390000 and first.brand == "Elmich"
    assert first.seller.id == "1" and first.seller.name == "Tiki Trading" and first.sold_count == 493
    assert first.url.endswith("-p275367488.html?spid=275374620")
    locknlock = next(x for x in result.listings if x.listing_id == "99868980")
    assert locknlock.brand == "LocknLock" and locknlock.sold_count == 15155 and locknlock.rating == 5.0


def test_seller_store_lists(shared_data: Path) -> None:
    folder = shared_data / "tiki" / "seller-store-items"
    result = tiki.parse((folder / "tiki__zinus-official-store__2021-09-22.json").read_bytes(), API)
    assert len(result.listings) == 31
    bed = result.listings[0]
    assert bed.listing_id == "74036862" and bed.title == "Giường sắt xếp thông minh Zinus Smart Base"
    assert bed.price == 1810000 and bed.original_price == 2424000 and bed.rating == 4.7
    assert bed.seller.id == "137891" and bed.seller.name == "ZINUS OFFICIAL STORE"
    assert bed.category == "Nội thất phòng ngủ khác"
    # A later, more trimmed day: the same item, its price changed, no seller in the file.
    later = tiki.parse((folder / "tiki__zinus-official-store__2021-09-28.json").read_bytes(), API)
    same = next(x for x in later.listings if x.listing_id == "74036862")
    assert same.price == 1990000 and same.original_price == 2656000
    assert "seller.name" in later.missing


def test_search_response_with_paging_and_an_empty_one(shared_data: Path) -> None:
    items = json.loads((shared_data / "tiki" / "seller-store-items" / "tiki__dem-ha-noi__2021-09-22.json").read_bytes())
    url = tiki.search_url("đệm", page=1)
    body = json.dumps({"data": items[:40], "paging": {"current_page": 1, "last_page": 3}}).encode()
    result = tiki.parse(body, url)
    assert len(result.listings) == 40 and result.next_url == tiki.search_url("đệm", page=2)
    empty = tiki.parse(b'{"data": [], "paging": {"current_page": 1, "last_page": 1}}', url)
    assert empty.listings == [] and empty.next_url is None


def test_renamed_price_key_is_named_in_the_error(shared_data: Path) -> None:
    data = json.loads(_api(shared_data, "36079551"))
    data["sale_price"] = data.pop("price")
    with pytest.raises(ExtractionError) as caught:
        tiki.parse(json.dumps(data).encode(), API + "36079551")
    assert caught.value.field == "price" and "absent" in str(caught.value)


def test_renamed_name_key_in_a_list_names_the_item(shared_data: Path) -> None:
    items = json.loads((shared_data / "tiki" / "seller-store-items" / "tiki__dem-ha-noi__2021-09-22.json").read_bytes())
    items[3]["title"] = items[3].pop("name")
    with pytest.raises(ExtractionError) as caught:
        tiki.parse(json.dumps({"data": items}).encode(), API)
    assert caught.value.field == "data[3].name"


def test_broken_json_and_html_garbage_give_clear_errors() -> None:
    with pytest.raises(ExtractionError) as caught:
        tiki.parse(b'{"id": 1, "name": ', API + "1")
    assert caught.value.field == "json"
    with pytest.raises(ExtractionError) as caught:
        tiki.parse(b"<html><body><h1>Access denied</h1></body></html>", "https://tiki.vn/x-p1.html")
    assert caught.value.field == "product"
    with pytest.raises(ExtractionError) as caught:
        tiki.parse(b'{"error": {"code": 404}}', API + "1")
    assert caught.value.field == "data"


def test_hostile_title_is_clipped_and_control_characters_dropped(shared_data: Path) -> None:
    data = json.loads(_api(shared_data, "36079551"))
    data["name"] = "\x1b[31mGiày\u202e " + "x" * 5000
    listing = tiki.parse(json.dumps(data).encode(), API + "36079551").listings[0]
    assert len(listing.title) <= 1000 and "\x1b" not in listing.title and "\u202e" not in listing.title


def test_urls() -> None:
    assert tiki.search_url("bình giữ nhiệt", 2).startswith("https://tiki.vn/api/v2/products?")
    assert "q=b%C3%ACnh%20gi%E1%BB%AF%20nhi%E1%BB%87t" in tiki.search_url("bình giữ nhiệt", 2)
    assert tiki.item_url("120552065") == "https://tiki.vn/api/v2/products/120552065"
    assert tiki.item_url("120552065-120552067") == "https://tiki.vn/api/v2/products/120552065?spid=120552067"
