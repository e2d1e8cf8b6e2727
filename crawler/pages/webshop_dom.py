"""HTML fallbacks for pages without (complete) structured data: the signals most shops share.

itemprop attributes outside an itemscope, price/sku/stock class and id names in many languages,
labelled values ("SKU: 123", "Art.-Nr. 123", "Mã sản phẩm: 123", "Thương hiệu: …"), struck-through
former prices, add-to-cart buttons, sold-out texts, and the ecommerce objects of analytics
scripts. Each reader looks at a bounded number of nodes so that a huge page costs linear time.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

_MAX_NODES = 400  # per reader: enough for any product page's header area

_PRICE_NAME = re.compile(r"price|preis|prix|prezzo|precio|preco|cena|gia|giá|fiyat|pris|hinta|cijena|kaina", re.I)
# Struck-through, "was", list and per-unit prices, and prices of other products.
_NOT_CURRENT = re.compile(
    r"old|was|regular|strike|list|compare|before|orig|rrp|uvp|msrp|save|saving|discount|unit|per|"
    r"range|from|min|max|filter|slider|related|recommend|similar|carousel|cart|basket|shipping|delivery|"
    r"label|title|info|note|tax|vat|alert|history|crossed|previous|reference|instal|month|club|member",
    re.I,
)
_CURRENT_NAME = re.compile(r"sale|special|deal|now|final|current|actual|promo|offer|selling|our[-_]?price", re.I)
_OLD_NAME = re.compile(
    r"old|was|regular|strike|orig|before|crossed|barred|previous|compare|rrp|uvp|msrp|list[-_]?price|full[-_]?price",
    re.I,
)
# Names that mark a struck-through amount even without the word "price".
_STRUCK_NAME = re.compile(r"strike|barred|crossed|line[-_]?through", re.I)
_MONEY = r"(?:[$€£¥₫₩₹₽₴₺₱฿₪元円]|zł|kč|kn|lei|руб|đ|vnđ|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z]))"
_AMOUNT_WITH_CURRENCY = re.compile(rf"{_MONEY}\s?\d[\d.,'\u00a0 ]*\d?|\d[\d.,'\u00a0 ]*\s?{_MONEY}(?![A-Za-z])")
_HAS_DIGIT = re.compile(r"\d")
_CURRENCY_HINT = re.compile(r"[$€£¥₫₩₹₽₴₺₱฿₪]|zł|kč|\bkn\b|lei|руб|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])|đ\b", re.I)

# Labels shops print before a product's own identifier, in the languages of the shops we watch.
_SKU_LABEL = re.compile(
    r"^[\s〈<(\[]*(?:sku|asin|item\s*(?:number|no\.?|#|code|id)|product\s*(?:code|id|number|no\.?)|article\s*(?:number|no\.?)|"
    r"art\.?\s*-?\s*nr\.?|artikel\s*-?\s*nr\.?|artikelnummer|bestellnummer|code\s*(?:article|produit)|"
    r"codice(?:\s*articolo|\s*prodotto)?|c[oó]digo(?:\s*(?:de\s*)?(?:producto|produto|art[ií]culo))?|"
    r"id\s*(?:produto|producto|prodotto|produit|produkt)|kod(?:\s*produktu)?|numer\s*produktu|šifra|"
    r"katalogové\s*číslo|mã\s*(?:sản\s*phẩm|sp|hàng)|ebay\s*item\s*number|artikul|артикул|код\s*товара|"
    r"cod\s*produs|kód\s*(?:produktu|tovaru)|katalógové\s*číslo|קוד\s*מוצר|מק\"?ט|"
    r"商品編號|商品编号|商品番号|品番|貨號)\s*[:：#.]?\s*",
    re.I,
)
_WEAK_SKU_LABEL = re.compile(r"^\s*(?:référence|reference|réf\.?|ref\.?|model\s*(?:#|no\.?|number)?)\s*[:#.]?\s*", re.I)
_MPN_LABEL = re.compile(
    r"^\s*(?:item\s*model\s*number|model\s*number|mpn|(?:manufacturer\s*)?part\s*number|"
    r"num[ée]ro\s*du\s*mod[eè]le(?:\s*de\s*l'article)?|r[ée]f[ée]rence\s*fabricant|numero\s*modello(?:\s*articolo)?|"
    r"modellnummer|herstellernummer|n[uú]mero\s*de\s*modelo|numer\s*modelu|номер\s*модели|mã\s*model)"
    r"\s*[:：#.]?\s*",
    re.I,
)
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]{2,40}$")
_BRAND_LABEL = re.compile(
    r"^\s*(?:brand|brand\s*name|marque|marke|marca|merk|märke|marka|značka|thương\s*hiệu|бренд|производитель|"
    r"ブランド|品牌|브랜드)\s*[:：]?\s*(?=\S|$)",
    re.I,
)
_LABELS = (("mpn", _MPN_LABEL), ("sku", _SKU_LABEL), ("sku-weak", _WEAK_SKU_LABEL), ("brand", _BRAND_LABEL))
_SKU_NAME = re.compile(r"sku|product[-_]?code|productcode|item[-_]?number|article[-_]?number|artikelnummer|ref", re.I)

_OUT_TEXT = re.compile(
    r"out\s*of\s*stock|sold\s*out|currently\s*unavailable|not\s*available|no\s*longer\s*available|"
    r"ausverkauft|nicht\s*(?:mehr\s*)?verfügbar|nicht\s*lieferbar|épuisé|epuise|en\s*rupture|rupture\s*de\s*stock|"
    r"indisponible|non\s*disponibile|esaurito|agotado|sin\s*stock|no\s*disponible|esgotado|indisponível|"
    r"niedostępny|brak\s*w\s*magazynie|wyprzedany|нет\s*в\s*наличии|распродано|hết\s*hàng|tạm\s*hết|ngừng\s*kinh\s*doanh|"
    r"売り切れ|在庫切れ|品切れ|缺貨|售完|已售完|품절|uitverkocht|niet\s*leverbaar|slutsåld|udsolgt|utsolgt|loppuunmyyty",
    re.I,
)
_CART_TEXT = re.compile(
    r"add\s*to\s*(?:cart|bag|basket|trolley)|buy\s*now|in\s*den\s*warenkorb|ajouter\s*au\s*panier|"
    r"aggiungi\s*al\s*carrello|añadir\s*al\s*carrito|agregar\s*al\s*carrito|adicionar\s*ao\s*carrinho|"
    r"do\s*koszyka|в\s*корзину|thêm\s*vào\s*giỏ|mua\s*ngay|カートに入れる|加入購物車|立即購買|장바구니|"
    r"in\s*winkelwagen|lägg\s*i\s*varukorgen|adaugă\s*în\s*coș|dodaj\s*u\s*košaricu|v\s*košík|kosár",
    re.I,
)
# "availability", "in-stock", "soldOut" but not "variationUnavailable" (an image placeholder).
_STOCK_NAME = re.compile(r"stock|availability|inventory|sold[-_]?out|\boos\b", re.I)
_IN_TEXT = re.compile(
    r"\bin\s*stock|auf\s*lager|sofort\s*lieferbar|en\s*stock|disponible|disponibile|em\s*estoque|"
    r"na\s*stanie|dostępny|в\s*наличии|còn\s*hàng|有現貨|在庫あり|재고\s*있음|op\s*voorraad|i\s*lager|varastossa",
    re.I,
)
_DATALAYER_PRICE = re.compile(
    r"""["']?(?:price|productPrice|product_price)["']?\s*:\s*["']?(\d+(?:\.\d+)?)["']?[,}\s]""", re.I
)
_DATALAYER_HINT = re.compile(
    r"dataLayer|ecommerce|\bgtag\(|fbq\(|productPrice|priceCurrency|google_tag_params|\bproducts?\s*[=:]\s*[\[{]", re.I
)


def visible_text(node: HtmlElement, limit: int = 300) -> str:
    text = " ".join(node.xpath("string()")[: limit * 4].split())
    return text[:limit]


def unstruck_text(node: HtmlElement, limit: int = 60) -> str:
    """Visible text without struck-through parts (<del>, <s>, <strike>): the amounts still asked."""
    parts = node.xpath(".//text()[not(ancestor::del or ancestor::s or ancestor::strike)]")
    text = " ".join(" ".join(str(p) for p in parts[:50]).split())
    return text[:limit]


def _attr_content(node: HtmlElement) -> str | None:
    for attr in ("content", "value", "data-price", "data-value", "href"):
        value = node.get(attr)
        if value and value.strip():
            return value.strip()
    text = visible_text(node, 120)
    return text or None


def itemprops(tree: HtmlElement, names: tuple[str, ...]) -> dict[str, str]:
    """The first value of each itemprop, also outside any itemscope (microdata misses those); one pass."""
    found: dict[str, str] = {}
    for node in tree.xpath("//*[@itemprop]")[: _MAX_NODES * 5]:
        name = node.get("itemprop", "").strip()
        if name in names and name not in found:
            value = _attr_content(node)
            if value:
                found[name] = value
    return found


def title(tree: HtmlElement) -> str | None:
    for node in tree.xpath("//h1")[:5]:
        text = visible_text(node, 1000)
        if text:
            return text
    node = tree.find(".//title")
    return visible_text(node, 1000) or None if node is not None else None


def title_anchor(tree: HtmlElement) -> bool:
    return next(tree.iter("h1"), None) is not None


def _class_id(node: HtmlElement) -> str:
    return f"{node.get('class', '')} {node.get('id', '')} {node.get('data-testid', '')}"


def _after_h1(tree: HtmlElement, limit: int = 3000) -> list[HtmlElement]:
    """Elements from the first h1 on (the product block), else the whole body, bounded."""
    h1 = next(tree.iter("h1"), None)
    if h1 is not None:
        return h1.xpath(f"following::*[position() <= {limit}]")
    return tree.xpath(f"//body//*[position() <= {limit}]")


def price_text(tree: HtmlElement) -> tuple[str, str] | None:
    """The most prominent price after the title: (shown text, source), from price-named elements.

    Among the first few price-named elements after the h1, one named as the current price
    ("sale", "special", "deal", "now", "final") wins over an earlier plain one, which on a
    discounted product is often the regular price without a strike-through class.
    """
    scope = _after_h1(tree) if title_anchor(tree) else tree.xpath("//body//*[position() <= 6000]")
    found: list[tuple[int, int, str]] = []
    for position, node in enumerate(scope):
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "option", "del", "s", "strike"):
            continue
        names = _class_id(node)
        if not _PRICE_NAME.search(names) or _NOT_CURRENT.search(names):
            continue
        if node.xpath("ancestor::del or ancestor::s or ancestor::strike"):
            continue
        text = unstruck_text(node, 60)
        if _HAS_DIGIT.search(text) and _CURRENCY_HINT.search(text) and len(text) <= 40:
            found.append((-int(bool(_CURRENT_NAME.search(names))), position, text))
            if len(found) >= 6:
                break
    if not found:
        return None
    return min(found)[2], "dom:price-class"


def price_in_text(tree: HtmlElement) -> tuple[str, str] | None:
    """Last resort: the first short text after the title that is an amount with its currency
    ("294 元", "€ 12,99", "1.290.000₫"), for shops whose price element has no telling name."""
    if not title_anchor(tree):
        return None
    for node in _after_h1(tree, 1500):
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "option", "del", "s", "strike"):
            continue
        if len(node) > 3:  # a container; its children come next
            continue
        text = unstruck_text(node, 60)
        if len(text) > 40 or _NOT_CURRENT.search(_class_id(node)):
            continue
        match = _AMOUNT_WITH_CURRENCY.search(text)
        if match:
            return match.group(0), "dom:price-text"
    return None


def old_price_texts(tree: HtmlElement) -> list[str]:
    """Prices shown as the former price near the title: struck through, or named old/was/regular."""
    texts: list[str] = []
    for node in _after_h1(tree, 1500) if title_anchor(tree) else []:
        if not isinstance(node.tag, str):
            continue
        names = _class_id(node)
        struck = node.tag in ("del", "s", "strike") or bool(_STRUCK_NAME.search(names))
        if not struck and not (_PRICE_NAME.search(names) and _OLD_NAME.search(names)):
            continue
        text = visible_text(node, 40)
        if _HAS_DIGIT.search(text):
            texts.append(text)
        if len(texts) >= 5:
            break
    return texts


def datalayer_price(tree: HtmlElement) -> str | None:
    """A price in an analytics ecommerce object (dataLayer, gtag, fbq) of an inline script."""
    for script in tree.xpath("//script[not(@src)]")[:_MAX_NODES]:
        code = script.text or ""
        if len(code) > 500_000 or not _DATALAYER_HINT.search(code):
            continue
        match = _DATALAYER_PRICE.search(code)
        if match:
            return match.group(1)
    return None


def shows_text(tree: HtmlElement, value: str) -> bool:
    """Whether value is printed in the page's visible text (not only in scripts or attributes)."""
    hits = tree.xpath("//body//text()[contains(., $v)][not(parent::script)][not(parent::style)][1]", v=value)
    return bool(hits)


def labels(tree: HtmlElement) -> dict[str, str]:
    """The first value printed after each kind of label: "sku" (SKU, product code, item number,
    ASIN, Art.-Nr., Mã sản phẩm...), "sku-weak" ("Ref.", "Model"), "mpn" (model or part number)
    and "brand" (Brand, Marque, Thương hiệu...). The value is in the label's own text
    ("SKU: 123") or the next one (a table row)."""
    texts = tree.xpath("(//body//text()[string-length() < 80][normalize-space()])[position() <= 20000]")
    found: dict[str, str] = {}
    for position, text in enumerate(texts):
        for kind, pattern in _LABELS:
            label = pattern.match(text)
            if not label or kind in found:
                continue
            parent = text.getparent()
            if parent is None or parent.tag in ("script", "style", "option", "a"):
                break
            rest = text[label.end() :].strip()
            if not rest and position + 1 < len(texts):
                rest = texts[position + 1].strip()
            rest = rest.strip(" :：#〉>)]")
            if kind == "brand":
                if 0 < len(rest) <= 40 and len(rest.split()) <= 4 and not _LABELS[0][1].match(rest):
                    found[kind] = rest
            elif _IDENTIFIER.match(rest) and _HAS_DIGIT.search(rest):
                found[kind] = rest
            break
        if len(found) == len(_LABELS):
            break
    return found


def labelled_sku(tree: HtmlElement, printed: dict[str, str]) -> tuple[str, str, int] | None:
    """(identifier, source, strength): a strongly labelled one (strength 0), an itemprop/data-sku
    attribute, a weakly labelled one ("Ref.", "Model": often the maker's part number; strength 1),
    or the text of a sku-named element. `printed` is what `labels` found."""
    if "sku" in printed:
        return printed["sku"], "dom:label", 0
    for node in tree.xpath("//body//*[not(self::script) and not(self::style)][@itemprop='sku' or @data-sku]")[:5]:
        value = node.get("data-sku") or _attr_content(node)
        if value and _IDENTIFIER.match(value):
            return value, "dom:itemprop", 0
    if "sku-weak" in printed:
        return printed["sku-weak"], "dom:label", 1
    for node in tree.xpath("(//body//*[@class or @id])[position() <= 20000]"):
        if _SKU_NAME.search(_class_id(node)):
            value = visible_text(node, 60)
            label = _SKU_LABEL.match(value)
            value = value[label.end() :] if label else value
            if _IDENTIFIER.match(value) and _HAS_DIGIT.search(value):
                return value, "dom:sku-class", 1
    return None


def stock_signal(tree: HtmlElement) -> tuple[str, str] | None:
    """("OutOfStock"|"InStock", source) from stock-named elements and buttons; None when silent.

    A stock-named element speaks through its leading words: further down, long blocks hold
    variant lists and templates where "sold out" is one option among many.
    """
    named = "(//body//*[@class or @id][not(self::script)][not(self::style)])[position() <= 20000]"
    for node in tree.xpath(named):
        if not _STOCK_NAME.search(_class_id(node)):
            continue
        text = visible_text(node, 60)
        if not text:
            continue
        if _OUT_TEXT.search(text):
            return "OutOfStock", "dom:stock-text"
        if _IN_TEXT.search(text):
            return "InStock", "dom:stock-text"
    buttons = tree.xpath("//button | //input[@type='submit' or @type='button'] | //a[contains(@class, 'btn')]")
    for node in buttons[:_MAX_NODES]:
        if node.get("disabled") is not None:
            continue
        text = visible_text(node, 80) or node.get("value", "")
        if _CART_TEXT.search(text) or _CART_TEXT.search(_class_id(node).replace("-", " ").replace("_", " ")):
            return "InStock", "dom:add-to-cart"
    return None
