"""Query expansion: names first, then unaccented forms, glued words and sellers' disguises, within a budget."""

from __future__ import annotations

from crawler.queries import expand, obfuscations, strip_marks
from kcnguard.records import Brand


def _brand(**changes: object) -> Brand:
    base = {"brand_id": "b1", "owner_id": "o1", "owner_name": "Công ty A", "name": "Sen Hồng"}
    return Brand.model_validate({**base, **changes})


def test_strip_marks_keeps_case_and_handles_d_bar() -> None:
    assert strip_marks("Đồng Hồ Sương Mai") == "Dong Ho Suong Mai"


def test_the_disguises_sellers_use_are_generated() -> None:
    assert obfuscations("NIKE") == ["N.IKE", "N.I.K.E", "NIK.E", "N1KE", "N I K E"]
    assert "Ad1das" in obfuscations("Adidas")
    assert "S.amsung" in obfuscations("Samsung")
    assert "O.PPO" in obfuscations("OPPO") and "OPP0" in obfuscations("OPPO")
    assert "Y.Z.X" not in obfuscations("YZ")  # too short to disguise without querying noise
    assert obfuscations("YZ") == [] and obfuscations("Sen Hồng") == []


def test_registered_names_come_first_then_forms_then_disguises() -> None:
    queries = expand(_brand(name="Samsung", aliases=["Sam Sũng"]), budget=100)
    assert queries[:2] == ["Samsung", "Sam Sũng"]
    assert queries.index("Sam Sung") < queries.index("S.amsung")
    assert {"S.a.m.s.u.n.g", "Samsun.g", "S4msung"} <= set(queries)


def test_case_and_spacing_duplicates_are_dropped() -> None:
    queries = expand(_brand(aliases=["SEN HỒNG", "sen  hồng", "Sen Hong"]), budget=100)
    assert queries == ["Sen Hồng", "Sen Hong", "SenHong"]


def test_negative_keywords_remove_queries_by_whole_word_without_accents() -> None:
    brand = _brand(name="Khoa", aliases=["hoa sen", "Hoa Sen Gold"], negative_keywords=["Hóa"])
    queries = expand(brand, budget=100)
    assert "Khoa" in queries  # "hoa" inside "Khoa" is not the word "hoa"
    assert not [q for q in queries if "hoa" in q.casefold().split()]


def test_budget_caps_the_queries_names_first() -> None:
    brand = _brand(name="Vinastep", aliases=["VinaStep Sport", "giày Vinastep"])
    assert expand(brand, budget=3) == ["Vinastep", "VinaStep Sport", "giày Vinastep"]
    assert expand(brand)[:3] == expand(brand, budget=3)
    assert len(expand(brand, budget=5)) == 5
    assert len(expand(_brand(name="Vinastep", aliases=["Lumitek", "Adidas"]))) == 12
