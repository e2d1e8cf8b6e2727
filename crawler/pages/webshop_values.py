"""Reading the values web shops write: prices in any locale, currency symbols, stock states.

Pure functions on strings, shared by the structured-data and the DOM readers of the web-shop
extractor (crawler/pages/webshop.py).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Currencies without minor units: a single separator followed by three digits is a thousands
# separator there ("1.290.000₫", "1.290₫"), whatever the page's locale.
ZERO_DECIMAL = {"VND", "JPY", "KRW", "CLP", "ISK", "HUF", "IDR", "PYG", "UGX", "XAF", "XOF", "TWD"}

# Symbols and local abbreviations → ISO 4217. "$" alone is ambiguous; the page's other
# signals (structured data, meta tags) decide, else USD is the usual reading.
_SYMBOLS = {
    "₫": "VND",
    "đ": "VND",
    "vnđ": "VND",
    "vnd": "VND",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "円": "JPY",
    "₩": "KRW",
    "₹": "INR",
    "₽": "RUB",
    "руб": "RUB",
    "р.": "RUB",
    "₴": "UAH",
    "₺": "TRY",
    "₱": "PHP",
    "฿": "THB",
    "zł": "PLN",
    "kč": "CZK",
    "kn": "HRK",
    "lei": "RON",
    "ft": "HUF",
    "rs": "PKR",
    "rp": "IDR",
    "rm": "MYR",
    "nt$": "TWD",
    "us$": "USD",
    "a$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "hk$": "HKD",
    "s$": "SGD",
    "r$": "BRL",
    "$": "USD",
    "chf": "CHF",
    "kr": "SEK",
    "₪": "ILS",
    "元": "CNY",
}
_PLAIN = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_ISO = re.compile(r"^[A-Za-z]{3}$")
# A number as shops print it: digits with thousands groups by . , space, NBSP, narrow NBSP or '.
# Either thousands-grouped ("1.290.000", "2 499,00", "1,234.56") or plain ("1234.56", "12,99"); a
# space only groups when three digits follow, so "881,00 169,00" is two numbers, not one.
_NUMBER = re.compile(r"\d{1,3}(?:[.,'\u00a0\u202f ]\d{3})+(?:[.,]\d{1,2}(?!\d))?(?!\d)|\d+(?:[.,]\d+)?")
_SYMBOL_IN_TEXT = re.compile(
    r"(nt\$|us\$|ca\$|hk\$|[acsr]\$|\$|₫|vnđ|vnd|€|£|¥|円|₩|₹|₽|руб|₴|₺|₱|฿|zł|kč|lei|₪|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z]))",
    re.IGNORECASE,
)
_ISO_CODES = {
    "USD", "EUR", "GBP", "VND", "JPY", "KRW", "CNY", "INR", "RUB", "UAH", "TRY", "PHP", "THB", "PLN",
    "CZK", "HRK", "RON", "HUF", "PKR", "IDR", "MYR", "TWD", "AUD", "CAD", "HKD", "SGD", "BRL", "CHF",
    "SEK", "NOK", "DKK", "ILS", "ARS", "CLP", "MXN", "COP", "PEN", "ZAR", "NZD", "BYN", "BGN", "AED",
    "SAR", "EGP", "NGN", "KES", "ISK", "RSD", "MAD",
}  # fmt: skip


def price_value(raw: object, currency: str | None = None, *, machine: bool = False) -> Decimal | None:
    """A price from structured data or page text; None when it holds no positive amount.

    Structured data writes "1234.56" or 1234.56; page text writes "1.234,56 €", "$1,234.56",
    "1.290.000₫" or "CHF 1'234.50". The last separator is the decimal one unless it is followed by
    exactly three digits (then it groups thousands), or the currency has no minor unit.
    `machine` marks structured data, where a plain "34.000" is 34.
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        return _positive(Decimal(str(raw)))
    if not isinstance(raw, str):
        return None
    if machine and _PLAIN.match(raw):  # structured data ("450.000" in JSON-LD is 450, not 450 000)
        return _positive(Decimal(raw.strip()))
    match = _NUMBER.search(raw[:200])
    if not match:
        return None
    digits = re.sub(r"['\u00a0\u202f ]", "", match.group(0))
    separators = [i for i, ch in enumerate(digits) if ch in ".,"]
    if not separators:
        return _positive(Decimal(digits))
    last = separators[-1]
    kinds = {digits[i] for i in separators}
    three_after = len(digits) - last - 1 == 3
    if (len(kinds) == 1 and (len(separators) > 1 or three_after)) or (
        three_after and (currency or "").upper() in ZERO_DECIMAL
    ):
        return _positive(Decimal(re.sub(r"[.,]", "", digits)))
    whole = re.sub(r"[.,]", "", digits[:last])
    return _positive(Decimal(f"{whole}.{digits[last + 1 :]}"))


def _positive(value: Decimal) -> Decimal | None:
    try:
        return value if value > 0 and value < Decimal("1e12") else None
    except InvalidOperation:
        return None


def currency_code(raw: object) -> str | None:
    """ISO 4217 code from a code or a symbol ("€", "₫", "zł", "eur"); None when unknown."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if _ISO.match(text) and text.upper() in _ISO_CODES:
        return text.upper()
    return _SYMBOLS.get(text.lower())


def currency_in_text(text: str) -> str | None:
    """The currency a shown price names ("1.290.000₫" → VND, "EUR 12" → EUR), or None."""
    for match in _SYMBOL_IN_TEXT.finditer(text[:200]):
        code = currency_code(match.group(1))
        if code:
            return code
    return None


_IN_STOCK_WORDS = ("instock", "in_stock", "in stock", "limitedavailability", "instoreonly", "onlineonly", "presale")
_OUT_WORDS = ("outofstock", "out_of_stock", "out of stock", "soldout", "sold out", "discontinued")


def availability_value(raw: object) -> str | None:
    """ "InStock"/"OutOfStock" from schema.org URLs, og: values ("instock", "oos") or booleans."""
    if isinstance(raw, bool):
        return "InStock" if raw else "OutOfStock"
    if not isinstance(raw, str):
        return None
    text = raw.strip().lower().rsplit("/", 1)[-1]
    if any(word in text for word in _OUT_WORDS) or text in ("oos", "out", "unavailable", "false", "0"):
        return "OutOfStock"
    if any(word in text for word in _IN_STOCK_WORDS) or text in ("available", "true", "1", "in"):
        return "InStock"
    return None


def clean_identifier(raw: object) -> str | None:
    """An SKU/MPN as written: stripped, one line, not a sentence; None when it does not look like one."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    text = " ".join(raw.split())
    if not text or len(text) > 64 or not re.search(r"[0-9A-Za-z]", text):
        return None
    if len(text.split()) > 3:
        return None
    return text
