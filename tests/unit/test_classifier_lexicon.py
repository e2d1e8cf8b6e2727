"""The counterfeit lexicon: terms fire on token boundaries, and legitimate 'giả'/'fake'/'dummy' do not."""

from __future__ import annotations

import json

import pytest

from classifier.lexicon import default_lexicon, raw_data
from classifier.normalize import normalize


def terms(text: str) -> list[str]:
    return [hit.term.id for hit in default_lexicon().find(normalize(text))]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Giày rep 1:1 full box", "replica"),
        ("Túi replica cao cấp", "replica"),
        ("Đồng hồ like auth 99%", "like_auth"),
        ("Giày siêu cấp", "super_fake"),
        ("giay sieu cap", "super_fake"),
        ("Giày super fake", "super_fake"),
        ("giày SF", "super_fake"),
        ("Áo F1 xịn", "grade_one"),
        ("hàng loại 1", "grade_one"),
        ("Túi xách nhái", "imitation"),
        ("tui xach nhai", "imitation"),
        ("Kính hàng AAA", "aaa"),
        ("mirror quality", "mirror"),
        ("hàng copy", "copy"),
        ("Hàng giả giá rẻ", "counterfeit_vi"),
        ("hàng fake", "fake"),
        ("Đồng hồ 1:1", "one_to_one"),
    ],
)
def test_counterfeit_terms_are_found(text: str, term: str) -> None:
    assert term in terms(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hoa giả trang trí",
        "Tóc giả nữ",
        "Lông mi giả 3D",
        "Camera giả chống trộm",
        "Dummy camera CCTV fake camera",
        "Pin dummy battery cho máy ảnh",
        "Máy soi tiền giả",
        "Counterfeit money detector / fake money detector",
        "Bút phát hiện hàng giả",
        "Tem chống hàng giả",
        "Ví da giả da cao cấp",
        "Pin AAA Panasonic",
        "Hạt giống dưa hấu F1",
        "Hàng giá rẻ",  # giá (price), not giả
        "hang gia re",
        "hoa nhài",  # jasmine, not nhái
        "sạc nhanh 3A",
        "iphone 11 pro",
        "Máy photocopy",
        "sfx sofa",  # 'sf' only as a whole token
    ],
)
def test_legitimate_uses_and_lookalikes_do_not_fire(text: str) -> None:
    assert terms(text) == []


def test_longest_phrase_wins_at_one_place() -> None:
    hits = default_lexicon().find(normalize("Giày rep 1:1"))
    assert [h.text for h in hits] == ["rep 1:1"]


def test_every_term_is_explained_in_vietnamese_and_english() -> None:
    data = json.loads(raw_data())
    for term in data["terms"]:
        assert term["vi"].strip() and term["en"].strip(), term["id"]
        assert term.get("patterns") or term.get("accented"), term["id"]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Giày MC bản chuẩn 11", "one_to_one"),
        ("Sneakers 350 (Bản một một)", "one_to_one"),
        ("[GeekSneaker] Air Force Best Version", "best_version"),
        ("giày r3p 1:1", "replica"),
        ("hàng SlÊU CẤP", "super_fake"),
        ("Hàng tuồn xuất dư xịn", "leaked_or_smuggled"),
    ],
)
def test_newer_spellings_are_found(text: str, term: str) -> None:
    assert term in terms(text)


@pytest.mark.parametrize("text", ["Điện thoại dummy trưng bày", "Giày da giả da", "Nhựa giả gỗ cao cấp"])
def test_display_dummies_and_imitation_materials_are_lawful(text: str) -> None:
    assert terms(text) == []


def test_a_term_glued_into_a_shop_name_is_found() -> None:
    lexicon = default_lexicon()
    assert lexicon.glued_in(normalize("shopgiayreplica.com")) in ("giayrep", "replica")
    assert lexicon.glued_in(normalize("SieuCapStore")) == "sieucap"
    assert lexicon.glued_in(normalize("Nike Official Store")) is None


def test_masking_replaces_every_term_with_one_token() -> None:
    masked = default_lexicon().mask(normalize("giay rep 1:1 sieu cap dep").deobfuscated, "T")
    assert masked.split() == ["giay", "T", "T", "dep"]
