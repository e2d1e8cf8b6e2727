"""The demo marketplace's own data: valid brands, a catalogue with every kind of listing."""

from __future__ import annotations

import re
from collections import Counter

from demo.catalogue import load_brands, load_catalogue, query_words
from kcnguard.text import fold


def test_brands_are_valid_fictional_kcn_brands() -> None:
    brands = load_brands()
    assert 4 <= len(brands) <= 5
    assert len({b.brand_id for b in brands}) == len(brands)
    for brand in brands:
        assert brand.owner_name and brand.owner_id
        assert any(fold(a) == a.casefold() for a in brand.aliases), f"{brand.brand_id} has no alias without accents"
        assert brand.negative_keywords
        assert brand.products and all(p.reference_price_vnd > 0 for p in brand.products)
        for mark in brand.trademarks:
            assert re.fullmatch(r"4-\d{7}-000", mark.number)
            assert mark.office == "IP Viet Nam" and mark.nice_classes and mark.expires_on
        assert any(s.marketplace == "demo" and s.kind == "official" for s in brand.official_sellers)


def test_catalogue_holds_every_kind_of_listing() -> None:
    listings = load_catalogue()
    assert 40 <= len(listings) <= 60
    assert len({listing.id for listing in listings}) == len(listings)
    labels = Counter(listing.label for listing in listings)
    assert labels["genuine"] >= 10 and labels["counterfeit"] >= 10 and labels["lookalike"] >= 10
    assert 1 <= labels["broken"] <= 2
    for listing in listings:
        assert re.fullmatch(r"[a-z0-9-]+", listing.id)
        assert listing.images and all(i.startswith("/images/") for i in listing.images)


def test_genuine_listings_come_from_the_brands_official_sellers() -> None:
    brands = {b.brand_id: b for b in load_brands()}
    for listing in load_catalogue():
        if listing.label == "genuine":
            brand = brands[listing.brand_id or ""]
            assert brand.is_official_seller("demo", listing.seller.id, listing.seller.name), listing.id


def test_counterfeits_are_priced_far_below_reference() -> None:
    brands = {b.brand_id: b for b in load_brands()}
    for listing in load_catalogue():
        if listing.label == "counterfeit":
            dearest = max(p.reference_price_vnd for p in brands[listing.brand_id or ""].products)
            assert isinstance(listing.price, int | float) and listing.price <= 0.5 * dearest, listing.id


def test_search_words_ignore_case_accents_and_separators() -> None:
    assert query_words("SEN HỒNG") == ["sen", "hong"]
    assert fold("Đồ gia dụng") == "do gia dung"
    obfuscated = next(listing for listing in load_catalogue() if "V.I.N.A.S.T.E.P" in listing.title)
    assert obfuscated.matches(query_words("vinastep"))
    assert not obfuscated.matches(query_words("lumitek"))
