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
