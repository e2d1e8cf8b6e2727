"""Reasons an inspector can check, in Vietnamese and English, built from the model's actual contributions.

Each reason states a fact read from the listing (the words quoted as the seller wrote them, the
price against the reference) and which way it moved the score, so a reason can never say
"looks counterfeit" about a contribution that lowered the score, or the reverse.
"""

from __future__ import annotations

from typing import NamedTuple

from classifier import features as f
from classifier.features import Evidence
from kcnguard.records import Reason


class Explanation(NamedTuple):
    """One reason as scoring makes it: the fields of a Reason record, without the record's cost."""

    code: str
    weight: float
    vi: str
    en: str

    def record(self) -> Reason:
        # Validated although every field fits: pydantic-core checks four fields faster (~1 µs) than
        # model_construct assigns them in Python (~2 µs).
        return Reason(code=self.code, weight=self.weight, vi=self.vi, en=self.en)


def vnd(amount: float) -> str:
    """150000 → '150.000 ₫', as Vietnamese shops write prices."""
    return f"{round(amount):,}".replace(",", ".") + " ₫"


def _quote(items: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


def _direction(weight: float) -> tuple[str, str]:
    if weight >= 0:
        return "làm tăng điểm nghi vấn", "raises the suspicion score"
    return "làm giảm điểm nghi vấn", "lowers the suspicion score"


def _reason(code: str, weight: float, vi: str, en: str) -> Explanation:
    up_vi, up_en = _direction(weight)
    return Explanation(code, round(weight, 4), f"{vi} — {up_vi}"[:1000], f"{en} — {up_en}"[:1000])


def _fact(code: str, evidence: Evidence) -> tuple[str, str]:
    brand = evidence.match.brand.name
    if code == f.COUNTERFEIT_TERM:
        found = _quote(list(dict.fromkeys(h.text for h in evidence.terms)))
        first = evidence.terms[0].term if evidence.terms else None
        vi = f"Tiêu đề/mô tả chứa thuật ngữ hàng nhái {found}"
        en = f"The title/description uses counterfeit vocabulary {found}"
        if first is not None:
            vi, en = f"{vi} ({first.vi})", f"{en} ({first.en})"
        return vi, en
    if code == f.OBFUSCATED_BRAND:
        form = evidence.match.obfuscated_form or ""
        return (
            f"Tên thương hiệu {brand} bị viết lái/ngụy trang ('{form}') để né bộ lọc",
            f"The brand name {brand} is disguised ('{form}') to slip past filters",
        )
    if code == f.ABBREVIATED_BRAND:
        form = evidence.match.names[0] if evidence.match.names else ""
        return (
            f"Thương hiệu {brand} chỉ được gọi bằng ký hiệu viết tắt '{form}' (cách né bộ lọc quen thuộc)",
            f"{brand} is named only by the short code '{form}' (a common way to dodge filters)",
        )
    if code in (f.PRICE_VERY_LOW, f.PRICE_LOW, f.PRICE_PLAUSIBLE):
        price, ref = vnd(evidence.price or 0), vnd(evidence.reference_price or 0)
        pct = round((evidence.ratio or 0) * 100)
        return (
            f"Giá {price} bằng {pct}% giá tham khảo thấp nhất {ref} của {brand}",
            f"The price {price} is {pct}% of {brand}'s lowest reference price {ref}",
        )
    if code == f.OFFICIAL_SELLER:
        who = f" ({evidence.seller_name})" if evidence.seller_name else ""
        return (
            f"Người bán là cửa hàng chính hãng/được ủy quyền{who}",
            f"The seller is an official or authorised store{who}",
        )
    if code == f.SELLER_COUNTERFEIT_NAME:
        words = _quote(list(dict.fromkeys(h.text for h in evidence.seller_terms)))
        return (
            f"Tên shop '{evidence.seller_name}' tự nhận bán hàng nhái ({words})",
            f"The shop's name '{evidence.seller_name}' declares it sells imitations ({words})",
        )
    if code == f.SELLER_DISGUISED_BRAND:
        return (
            f"Tên shop '{evidence.seller_name}' viết lái tên {brand} để giả làm cửa hàng của thương hiệu",
            f"The shop's name '{evidence.seller_name}' disguises {brand}'s name to pose as the brand's store",
        )
    if code == f.SELLER_HISTORY:
        share, count = evidence.seller_history or (0.0, 0)
        return (
            f"{round(share * 100)}% trong {count} tin đăng của người bán này đã bị gắn cờ hoặc xác nhận vi phạm",
            f"{round(share * 100)}% of this seller's {count} listings were already flagged or confirmed",
        )
    if code == f.DESCRIPTIVE_USE:
        phrase = evidence.match.descriptive_phrase or ""
        return (
            f"Tên {brand} chỉ dùng để mô tả sản phẩm tương thích ('{phrase}'), không phải nhãn hiệu của sản phẩm",
            f"{brand} is named only to say what the product fits ('{phrase}'), not as its own brand",
        )
    if code == f.SECOND_HAND:
        found = _quote(list(dict.fromkeys(h.text for h in evidence.second_hand)))
        return (
            f"Tin đăng ghi là hàng đã qua sử dụng ({found}): giá thấp hơn hàng mới là bình thường",
            f"The listing says the goods are second-hand ({found}): a price below new is expected",
        )
    if code == f.NO_BRAND_MATCH:
        return (
            f"Tin đăng không nêu tên thương hiệu {brand} (chỉ xuất hiện trong kết quả tìm kiếm)",
            f"The listing does not name {brand} (it only turned up in the brand's search results)",
        )
    return code, code


def signal_reason(code: str, weight: float, evidence: Evidence) -> Explanation:
    vi, en = _fact(code, evidence)
    return _reason(code, weight, vi, en)


def text_reason(ngrams: list[tuple[str, float]], pushing_up: bool) -> Explanation:
    words = _quote([n.replace(f.BRAND_TOKEN, "<thương hiệu>") for n, _ in ngrams])
    words_en = _quote([n.replace(f.BRAND_TOKEN, "<brand>") for n, _ in ngrams])
    weight = sum(w for _, w in ngrams)
    if pushing_up:
        vi = f"Cách viết của tin đăng giống các tin hàng nhái mà mô hình đã học: {words}"
        en = f"The wording resembles the counterfeit listings the model learnt from: {words_en}"
    else:
        vi = f"Cách viết của tin đăng giống các tin hàng thật mà mô hình đã học: {words}"
        en = f"The wording resembles the genuine listings the model learnt from: {words_en}"
    return _reason("text_up" if pushing_up else "text_down", weight, vi, en)


def rule_reason(code: str, weight: float, vi: str, en: str) -> Explanation:
    return _reason(code, weight, vi, en)
