"""The brand registration form: plain text fields (one item a line) to and from the API's BrandIn.

Line-level mistakes (a price that is not a number) are reported with their line; everything
else is validated by BrandIn itself, so the form accepts exactly what the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from api.brands.models import BrandIn, BrandInBase
from kcnguard.records import Brand
from kcnguard.validation import problems

FIELDS = (
    "brand_id",
    "owner_id",
    "owner_name",
    "name",
    "category",
    "aliases",
    "negative_keywords",
    "trademarks",
    "products",
    "official_sellers",
    "marketplaces",
    "crawl_interval_minutes",
)
MAX_FIELD = 100_000


@dataclass
class BrandForm:
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    brand: BrandInBase | None = None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _parts(line: str, count: int) -> list[str]:
    parts = [p.strip() for p in line.split(";")]
    return (parts + [""] * count)[:count]


def _trademarks(text: str, errors: list[str], lang: str) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(_lines(text), 1):
        number, classes, expires = _parts(line, 3)
        mark: dict[str, Any] = {"number": number}
        try:
            mark["nice_classes"] = [int(c) for c in classes.replace(" ", "").split(",") if c]
        except ValueError:
            errors.append(_line_error("trademarks", n, lang, "nhóm Nice phải là số", "Nice classes must be numbers"))
            continue
        if expires:
            try:
                mark["expires_on"] = date.fromisoformat(expires).isoformat()
            except ValueError:
                vi, en = "ngày hết hạn phải có dạng YYYY-MM-DD", "expiry must be YYYY-MM-DD"
                errors.append(_line_error("trademarks", n, lang, vi, en))
                continue
        out.append(mark)
    return out


def _products(text: str, errors: list[str], lang: str) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(_lines(text), 1):
        name, price, sku = _parts(line, 3)
        digits = price.replace(".", "").replace(",", "").replace(" ", "").removesuffix("đ").removesuffix("₫")
        if not digits.isdigit():
            vi, en = "giá tham khảo phải là số đồng", "the reference price must be VND digits"
            errors.append(_line_error("products", n, lang, vi, en))
            continue
        product: dict[str, Any] = {"name": name, "reference_price_vnd": int(digits)}
        if sku:
            product["sku"] = sku
        out.append(product)
    return out


def _sellers(text: str) -> list[dict[str, Any]]:
    out = []
    for line in _lines(text):
        marketplace, seller_id, seller_name, kind = _parts(line, 4)
        seller: dict[str, Any] = {"marketplace": marketplace, "kind": kind or "official"}
        if seller_id:
            seller["seller_id"] = seller_id
        if seller_name:
            seller["seller_name"] = seller_name
        out.append(seller)
    return out


def _line_error(name: str, line: int, lang: str, vi: str, en: str) -> str:
    return f"{name}, dòng {line}: {vi}" if lang == "vi" else f"{name}, line {line}: {en}"


def parse(values: dict[str, str], lang: str) -> BrandForm:
    """The form's text as a validated BrandIn, or the errors to show beside the form."""
    form = BrandForm({k: values.get(k, "")[:MAX_FIELD] for k in FIELDS})
    v = form.values
    body: dict[str, Any] = {
        "brand_id": v["brand_id"].strip(),
        "owner_id": v["owner_id"].strip(),
        "owner_name": v["owner_name"].strip(),
        "name": v["name"].strip(),
        "aliases": _lines(v["aliases"]),
        "negative_keywords": _lines(v["negative_keywords"]),
        "trademarks": _trademarks(v["trademarks"], form.errors, lang),
        "products": _products(v["products"], form.errors, lang),
        "official_sellers": _sellers(v["official_sellers"]),
        "marketplaces": [m.strip() for m in v["marketplaces"].split(",") if m.strip()],
    }
    if v["category"].strip():
        body["category"] = v["category"].strip()
    if v["crawl_interval_minutes"].strip():
        body["crawl_interval_minutes"] = v["crawl_interval_minutes"].strip()
    if not body["marketplaces"]:
        body.pop("marketplaces")  # the record's default: every marketplace
    if form.errors:
        return form
    try:
        form.brand = BrandIn.model_validate(body)
    except ValidationError as exc:
        form.errors.extend(problems(exc, "brand"))
    return form


def values_of(brand: Brand) -> dict[str, str]:
    """A stored brand as the form's text, so editing shows exactly what is registered."""

    def join(items: list[str]) -> str:
        return "\n".join(items)

    return {
        "brand_id": brand.brand_id,
        "owner_id": brand.owner_id,
        "owner_name": brand.owner_name,
        "name": brand.name,
        "category": brand.category or "",
        "aliases": join(brand.aliases),
        "negative_keywords": join(brand.negative_keywords),
        "trademarks": join(
            f"{t.number}; {', '.join(map(str, t.nice_classes))}; {t.expires_on.isoformat() if t.expires_on else ''}"
            for t in brand.trademarks
        ),
        "products": join(f"{p.name}; {p.reference_price_vnd}; {p.sku or ''}" for p in brand.products),
        "official_sellers": join(
            f"{o.marketplace}; {o.seller_id or ''}; {o.seller_name or ''}; {o.kind}" for o in brand.official_sellers
        ),
        "marketplaces": ", ".join(brand.marketplaces),
        "crawl_interval_minutes": str(brand.crawl_interval_minutes),
    }
