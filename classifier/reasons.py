"""Reasons an inspector can check, in Vietnamese and English, built from the model's actual contributions."""

from __future__ import annotations

from classifier import features as f
from classifier.features import Evidence
from kcnguard.records import Reason


def vnd(amount: float) -> str:
    """150000 → '150.000 ₫', as Vietnamese shops write prices."""
    return f"{round(amount):,}".replace(",", ".") + " ₫"


def _quote(items: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


def signal_reason(code: str, weight: float, evidence: Evidence) -> Reason:
    brand = evidence.match.brand.name
    if code == f.COUNTERFEIT_TERM:
        found = _quote(list(dict.fromkeys(h.text for h in evidence.terms)))
        first = evidence.terms[0].term if evidence.terms else None
        vi = f"Tiêu đề/mô tả chứa thuật ngữ hàng nhái {found}"
        en = f"The title/description uses counterfeit vocabulary {found}"
        if first is not None:
            vi, en = f"{vi} ({first.vi})", f"{en} ({first.en})"
    elif code == f.OBFUSCATED_BRAND:
        form = evidence.match.obfuscated_form or ""
        vi = f"Tên thương hiệu {brand} bị viết lái/ngụy trang ('{form}') để né bộ lọc"
        en = f"The brand name {brand} is disguised ('{form}') to slip past filters"
    elif code in (f.PRICE_VERY_LOW, f.PRICE_LOW, f.PRICE_PLAUSIBLE):
        price, ref = vnd(evidence.price or 0), vnd(evidence.reference_price or 0)
        pct = round((evidence.ratio or 0) * 100)
        if code == f.PRICE_PLAUSIBLE:
            vi = f"Giá {price} hợp lý so với giá tham khảo thấp nhất {ref} ({pct}%)"
            en = f"The price {price} is plausible against the lowest reference price {ref} ({pct}%)"
        else:
            vi = f"Giá {price} chỉ bằng {pct}% giá tham khảo thấp nhất {ref} của {brand}"
            en = f"The price {price} is only {pct}% of {brand}'s lowest reference price {ref}"
    elif code == f.OFFICIAL_SELLER:
        who = f" ({evidence.seller_name})" if evidence.seller_name else ""
        vi = f"Người bán là cửa hàng chính hãng/được ủy quyền{who}"
        en = f"The seller is an official or authorised store{who}"
    elif code == f.DESCRIPTIVE_USE:
        phrase = evidence.match.descriptive_phrase or ""
        vi = (
            f"Tên {brand} chỉ dùng để mô tả sản phẩm tương thích ('{phrase} {brand}'), "
            "không phải nhãn hiệu của sản phẩm"
        )
        en = f"{brand} is named only to say what the product fits ('{phrase} {brand}'), not as its own brand"
    elif code == f.NO_BRAND_MATCH:
        vi = f"Tin đăng không nêu tên thương hiệu {brand} (chỉ xuất hiện trong kết quả tìm kiếm)"
        en = f"The listing does not name {brand} (it only turned up in the brand's search results)"
    else:
        vi = en = code
    return Reason(code=code, weight=round(weight, 4), vi=vi[:1000], en=en[:1000])


def text_reason(ngrams: list[tuple[str, float]], pushing_up: bool) -> Reason:
    words = _quote([n.replace(f.BRAND_TOKEN, "<thương hiệu>") for n, _ in ngrams])
    words_en = _quote([n.replace(f.BRAND_TOKEN, "<brand>") for n, _ in ngrams])
    weight = sum(w for _, w in ngrams)
    if pushing_up:
        vi = f"Cách viết của tin đăng giống tin hàng nhái: {words}"
        en = f"The wording resembles counterfeit listings: {words_en}"
    else:
        vi = f"Cách viết của tin đăng giống tin hàng thật: {words}"
        en = f"The wording resembles genuine listings: {words_en}"
    return Reason(code="text_up" if pushing_up else "text_down", weight=round(weight, 4), vi=vi[:1000], en=en[:1000])
