"""Brand matching: names, aliases, disguised spellings, descriptive use, negative keywords, query brand."""

from __future__ import annotations

from classifier.brand_matching import BrandMatcher
from kcnguard.records import Brand, Listing, Product


def brand(brand_id: str, name: str, aliases: list[str], category: str, negative: list[str] | None = None) -> Brand:
    return Brand(
        brand_id=brand_id,
        owner_id="owner",
        owner_name="Owner",
        name=name,
        aliases=aliases,
        category=category,
        negative_keywords=negative or [],
        products=[Product(name="p", reference_price_vnd=1_000_000)],
    )


BRANDS = [
    brand("kira", "Kira Phone", ["kiraphone", "kira"], "smartphone"),
    brand("lotus", "Lotus Step", ["lotusstep"], "footwear", negative=["lotus biscoff"]),
    brand("nova", "Nova Charge", ["novacharge"], "electronics_accessories"),
    brand("apple", "Apple", ["iphone", "a*ple", "ip"], "electronics"),
]
MATCHER = BrandMatcher(BRANDS)


def listing(title: str, query_brand_id: str | None = None) -> Listing:
    return Listing(
        marketplace="shopee",
        listing_id="1",
        url="https://shopee.vn/1",
        title=title,
        evidence_digest="0" * 64,
        query_brand_id=query_brand_id,
    )


def matches(title: str, query_brand_id: str | None = None) -> dict:
    return {m.brand.brand_id: m for m in MATCHER.match(listing(title, query_brand_id))}


def test_name_and_alias_match_in_any_case_and_without_diacritics() -> None:
    assert set(matches("Điện thoại KIRA PHONE X2")) == {"kira"}
    assert set(matches("kiraphone x2 chinh hang")) == {"kira"}
    assert matches("Giày sneaker nam") == {}


def test_names_match_only_on_token_boundaries_and_short_aliases_alone_do_not_count() -> None:
    assert matches("Bánh kiralova") == {}
    assert matches("Cáp ip 2m") == {}  # "ip" is too short to mean Apple by itself


def test_disguised_spellings_match_and_are_marked_obfuscated() -> None:
    for title, form in [
        ("Giày L.0.T.U.S Step xịn", "l.0.t.u.s step"),
        ("Điện thoại K1ra Phone X2", "k1ra phone"),
        ("Giày L-O-T-U-S Step", "l-o-t-u-s step"),
    ]:
        found = matches(title)["lotus" if "step" in title.lower() else "kira"]
        assert found.obfuscated and found.obfuscated_form == form, title
    assert matches("iρhone 13 pro max")["apple"].obfuscated  # Greek rho
    assert matches("a*ple watch")["apple"].obfuscated  # a registered disguised alias
    assert not matches("Giày Lotus Step Runner")["lotus"].obfuscated


def test_compatibility_accessories_are_descriptive_use() -> None:
    for title in [
        "Ốp lưng cho Kira Phone X2",
        "Ốp lưng Kira Phone X2 silicon",
        "Kính cường lực Kira X2",
        "Cáp sạc cho iPhone 13",
        "Dây đeo Apple Watch 41mm",
        "op lung kira phone x2",
        "Case compatible with Kira Phone",
    ]:
        found = MATCHER.match(listing(title))
        assert found and all(m.descriptive for m in found), title


def test_the_brand_as_the_products_own_is_not_descriptive() -> None:
    assert not matches("Điện thoại Kira Phone X2 chính hãng")["kira"].descriptive
    assert not matches("Tai nghe không dây Kira")["kira"].descriptive  # "dây" in "không dây" is not a strap
    assert not matches("Đồng hồ siêu cấp Kira")["kira"].descriptive  # folded "cap" here is cấp, not cáp
    # Nova makes cables: "cáp sạc Nova Charge" is Nova's own product.
    assert not matches("Cáp sạc Nova Charge 1m")["nova"].descriptive


def test_negative_keywords_suppress_a_brand() -> None:
    assert matches("Bánh Lotus Biscoff lotus step") == {}


def test_query_brand_is_included_even_when_not_named() -> None:
    found = matches("Giày sneaker nam", query_brand_id="lotus")
    assert set(found) == {"lotus"}
    assert found["lotus"].via_query and not found["lotus"].name_found
    named = matches("Giày Lotus Step", query_brand_id="lotus")["lotus"]
    assert named.via_query and named.name_found


LIST_BRANDS = [
    brand("kira", "Kira Phone", ["kira"], "smartphone"),
    brand("samsung", "Samsung", ["galaxy"], "electronics"),
    brand("oppo", "Oppo", [], "electronics"),
    brand("apple", "Apple", ["iphone", "ipad"], "electronics"),
    brand("nike", "Nike", ["air force"], "footwear"),
    brand("adidas", "Adidas", [], "footwear"),
    brand("nova", "Nova Charge", ["novacharge"], "electronics_accessories"),
]
LIST_MATCHER = BrandMatcher(LIST_BRANDS)


def list_matches(title: str) -> dict:
    return {m.brand.brand_id: m for m in LIST_MATCHER.match(listing(title))}


def test_a_brand_in_a_list_of_devices_the_product_fits_is_descriptive() -> None:
    for title, brand_id, phrase in [
        # A device noun among the items; the brand is one more item of the same list.
        ("Tai nghe gaming có dây chơi game chống ồn IP, pc, samsung, oppo giá rẻ", "samsung", "pc, samsung"),
        ("Tai nghe gaming có dây chơi game chống ồn IP, pc, samsung, oppo giá rẻ", "oppo", "pc, samsung, oppo"),
        ("Tai nghe chơi game PC, Samsung, Oppo", "samsung", "pc, samsung"),
        ("Bàn phím bluetooth máy tính bảng, điện thoại | Samsung | Oppo", "samsung", "điện thoại | samsung"),
        ("Tai nghe pc và samsung", "samsung", "pc và samsung"),
        ("Chuột không dây laptop; Samsung Galaxy Tab", "samsung", "laptop; samsung"),
        # Unaccented Vietnamese: "dien thoai", "may tinh bang" and "va" read like the typed words.
        ("tai nghe nhet tai may tinh bang, dien thoai va samsung", "samsung", "dien thoai va samsung"),
        # Two platform names make a list of what it runs with.
        ("Tai nghe bluetooth Android, iOS, Samsung", "samsung", "android, ios, samsung"),
        # A connector opening the list reaches items past its usual few words.
        ("Bàn phím bluetooth dùng cho iPhone 14 Pro Max, Samsung S23 Ultra, Oppo Reno 8", "oppo", "dùng cho"),
        ("Tai nghe tương thích Android, iOS, Samsung", "samsung", "tương thích"),
    ]:
        found = list_matches(title)[brand_id]
        assert found.descriptive and found.descriptive_phrase == phrase, (title, found.descriptive_phrase)


def test_a_list_of_the_products_own_brands_is_not_descriptive() -> None:
    for title in [
        "Giày Nike, Adidas rep 1:1",  # brands of the product itself, no device among them
        "Giày thể thao nam, Nike Air Force 1, Adidas",
        "Điện thoại Samsung Galaxy A15, Oppo A58 chính hãng",
        "Điện thoại Samsung A54 | Android | 8GB/256GB",  # one platform is the phone's own system
        "iPhone 15 Pro Max, iOS 17 chính hãng",
        "Laptop, PC, Điện thoại Samsung Galaxy A54",  # Samsung opens no item: it is the phone sold
        "Samsung, PC, laptop giá rẻ",  # the first item is what the listing sells
    ]:
        found = list_matches(title)
        assert found and not any(m.descriptive for m in found.values()), (title, found)


def test_a_brand_that_makes_accessories_is_its_own_in_a_device_list() -> None:
    assert not list_matches("Cáp sạc 1m PC, Nova Charge, laptop")["nova"].descriptive
