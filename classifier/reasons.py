"""Reasons an inspector can check, in Vietnamese and English, built from the model's actual contributions.

Each reason states a fact read from the listing (the words quoted as the seller wrote them, the
price against the reference) and which way it moved the score, so a reason can never say
"looks counterfeit" about a contribution that lowered the score, or the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from classifier import features as f
from classifier.features import Evidence
from classifier.keyword_build import keyword_builder
from classifier.lexicon import TermHit
from kcnguard.records import Reason


class Explanation(NamedTuple):
    """One reason as scoring makes it: the fields of a Reason record, without the record's cost."""

    code: str
    weight: float
    vi: str
    en: str

    def record(self) -> Reason:
        # Validated although every field fits: pydantic-core checks four fields sooner than
        # model_construct assigns them in Python.
        return Reason(code=self.code, weight=self.weight, vi=self.vi, en=self.en)


# One is built per reason: by keyword, through a function, so no dict of keywords is
# packed and unpacked per record (classifier/keyword_build.py).
_build_explanation = keyword_builder(Explanation)


def vnd(amount: float) -> str:
    """150000 → '150.000 ₫', as Vietnamese shops write prices."""
    return f"{round(amount):,}".replace(",", ".") + " ₫"


def _quote(items: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


def _quote_hits(hits: list[TermHit]) -> str:
    """The words found, each once, in the order found."""
    return _quote(list(dict.fromkeys(h.text for h in hits)))


# What a reason adds about its direction: (in Vietnamese, in English).
_RAISES = (" — làm tăng điểm nghi vấn", " — raises the suspicion score")
_LOWERS = (" — làm giảm điểm nghi vấn", " — lowers the suspicion score")


def _reason(code: str, weight: float, vi: str, en: str) -> Explanation:
    direction_vi, direction_en = _RAISES if weight >= 0 else _LOWERS
    return _build_explanation(
        code=code, weight=round(weight, 4), vi=(vi + direction_vi)[:1000], en=(en + direction_en)[:1000]
    )


def _counterfeit_term(brand: str, evidence: Evidence) -> tuple[str, str]:
    found = _quote_hits(evidence.terms)
    first = evidence.terms[0].term if evidence.terms else None
    vi = f"Tiêu đề/mô tả chứa thuật ngữ hàng nhái {found}"
    en = f"The title/description uses counterfeit vocabulary {found}"
    if first is not None:
        vi, en = f"{vi} ({first.vi})", f"{en} ({first.en})"
    return vi, en


def _obfuscated_brand(brand: str, evidence: Evidence) -> tuple[str, str]:
    form = evidence.match.obfuscated_form or ""
    return (
        f"Tên thương hiệu {brand} bị viết lái/ngụy trang ('{form}') để né bộ lọc",
        f"The brand name {brand} is disguised ('{form}') to slip past filters",
    )


def _abbreviated_brand(brand: str, evidence: Evidence) -> tuple[str, str]:
    form = evidence.match.names[0] if evidence.match.names else ""
    return (
        f"Thương hiệu {brand} chỉ được gọi bằng ký hiệu viết tắt '{form}' (cách né bộ lọc quen thuộc)",
        f"{brand} is named only by the short code '{form}' (a common way to dodge filters)",
    )


def _price(brand: str, evidence: Evidence) -> tuple[str, str]:
    price, ref = vnd(evidence.price or 0), vnd(evidence.reference_price or 0)
    pct = round((evidence.ratio or 0) * 100)
    return (
        f"Giá {price} bằng {pct}% giá tham khảo thấp nhất {ref} của {brand}",
        f"The price {price} is {pct}% of {brand}'s lowest reference price {ref}",
    )


def _official_seller(brand: str, evidence: Evidence) -> tuple[str, str]:
    who = f" ({evidence.seller_name})" if evidence.seller_name else ""
    return (
        f"Người bán là cửa hàng chính hãng/được ủy quyền{who}",
        f"The seller is an official or authorised store{who}",
    )


def _seller_counterfeit_name(brand: str, evidence: Evidence) -> tuple[str, str]:
    words = _quote_hits(evidence.seller_terms)
    return (
        f"Tên shop '{evidence.seller_name}' tự nhận bán hàng nhái ({words})",
        f"The shop's name '{evidence.seller_name}' declares it sells imitations ({words})",
    )


def _seller_disguised_brand(brand: str, evidence: Evidence) -> tuple[str, str]:
    return (
        f"Tên shop '{evidence.seller_name}' viết lái tên {brand} để giả làm cửa hàng của thương hiệu",
        f"The shop's name '{evidence.seller_name}' disguises {brand}'s name to pose as the brand's store",
    )


def _seller_history(brand: str, evidence: Evidence) -> tuple[str, str]:
    share, count = evidence.seller_history or (0.0, 0)
    return (
        f"{round(share * 100)}% trong {count} tin đăng của người bán này đã bị gắn cờ hoặc xác nhận vi phạm",
        f"{round(share * 100)}% of this seller's {count} listings were already flagged or confirmed",
    )


def _descriptive_use(brand: str, evidence: Evidence) -> tuple[str, str]:
    phrase = evidence.match.descriptive_phrase or ""
    return (
        f"Tên {brand} chỉ dùng để mô tả sản phẩm tương thích ('{phrase}'), không phải nhãn hiệu của sản phẩm",
        f"{brand} is named only to say what the product fits ('{phrase}'), not as its own brand",
    )


def _second_hand(brand: str, evidence: Evidence) -> tuple[str, str]:
    found = _quote_hits(evidence.second_hand)
    return (
        f"Tin đăng ghi là hàng đã qua sử dụng ({found}): giá thấp hơn hàng mới là bình thường",
        f"The listing says the goods are second-hand ({found}): a price below new is expected",
    )


def _no_brand_match(brand: str, evidence: Evidence) -> tuple[str, str]:
    return (
        f"Tin đăng không nêu tên thương hiệu {brand} (chỉ xuất hiện trong kết quả tìm kiếm)",
        f"The listing does not name {brand} (it only turned up in the brand's search results)",
    )


# The fact each signal states, given the brand's name and the evidence: (in Vietnamese, in English).
_FACTS: dict[str, Callable[[str, Evidence], tuple[str, str]]] = {
    f.COUNTERFEIT_TERM: _counterfeit_term,
    f.OBFUSCATED_BRAND: _obfuscated_brand,
    f.ABBREVIATED_BRAND: _abbreviated_brand,
    f.PRICE_VERY_LOW: _price,
    f.PRICE_LOW: _price,
    f.PRICE_PLAUSIBLE: _price,
    f.OFFICIAL_SELLER: _official_seller,
    f.SELLER_COUNTERFEIT_NAME: _seller_counterfeit_name,
    f.SELLER_DISGUISED_BRAND: _seller_disguised_brand,
    f.SELLER_HISTORY: _seller_history,
    f.DESCRIPTIVE_USE: _descriptive_use,
    f.SECOND_HAND: _second_hand,
    f.NO_BRAND_MATCH: _no_brand_match,
}


def signal_reasons(chosen: list[tuple[str, float]], evidence: Evidence) -> list[Explanation]:
    """The reason of each (signal code, weight) of one judgement, in words read from its evidence."""
    brand = evidence.match.brand.name
    reasons = []
    for code, weight in chosen:
        fact = _FACTS.get(code)
        vi, en = fact(brand, evidence) if fact is not None else (code, code)
        reasons.append(_reason(code, weight, vi, en))
    return reasons


def quote_ngram(ngram: str) -> tuple[str, str]:
    """An n-gram as a text reason quotes it: (in Vietnamese, in English)."""
    return _quote([ngram.replace(f.BRAND_TOKEN, "<thương hiệu>")]), _quote([ngram.replace(f.BRAND_TOKEN, "<brand>")])


def quoted_text_reason(quoted: list[tuple[str, str]], weight: float, pushing_up: bool) -> Explanation:
    """The reason of the n-grams that pushed a score one way, given quoted by quote_ngram (a scorer
    quotes each n-gram of its model once, not once per listing) and their summed weight."""
    words = ", ".join([vi for vi, _ in quoted])
    words_en = ", ".join([en for _, en in quoted])
    if pushing_up:
        vi = f"Cách viết của tin đăng giống các tin hàng nhái mà mô hình đã học: {words}"
        en = f"The wording resembles the counterfeit listings the model learnt from: {words_en}"
    else:
        vi = f"Cách viết của tin đăng giống các tin hàng thật mà mô hình đã học: {words}"
        en = f"The wording resembles the genuine listings the model learnt from: {words_en}"
    return _reason("text_up" if pushing_up else "text_down", weight, vi, en)


def rule_reason(code: str, weight: float, vi: str, en: str) -> Explanation:
    return _reason(code, weight, vi, en)
