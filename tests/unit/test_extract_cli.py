"""`kcnguard extract` and the parser registry, on real saved responses (gzipped too)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
from pathlib import Path

import pytest

from crawler.pages import registry
from crawler.pages.base import ExtractionError, Parsed
from kcnguard.settings import Settings
from launcher.cli import main

KEYS = [
    "marketplace", "listing_id", "url", "title", "price", "currency", "original_price", "sku", "gtin", "brand",
    "availability", "seller_id", "seller_name", "seller_official", "sold", "rating", "images",
]  # fmt: skip


def _rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_gzipped_lazada_search_page(shared_data: Path, tmp_path: Path, isolated_settings: Settings, capsys) -> None:
    saved = tmp_path / "page.bin"  # no .gz in the name: gzip is recognised by its magic bytes
    saved.write_bytes(gzip.compress((shared_data / "lazada" / "search-page-lazada-com-ph-diapers.html").read_bytes()))
    assert main(["extract", "--url", "https://www.lazada.com.ph/catalog/?q=diapers+watson", str(saved)]) == 0
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    assert len(rows) == 40
    assert list(rows[0])[: len(KEYS)] == KEYS
    assert rows[0]["marketplace"] == "lazada" and rows[0]["listing_id"] == "2894375047"
    assert rows[0]["price"] == 305 and rows[0]["currency"] == "PHP" and rows[0]["sold"] == 2000
    assert rows[0]["seller_official"] is True and rows[0]["gtin"] is None and rows[0]["images"] == []
    assert "40 tin đăng / listings (lazada)" in captured.err and "page=2" in captured.err


def test_plain_tiki_product_api_file(shared_data: Path, isolated_settings: Settings, capsys) -> None:
    path = shared_data / "tiki" / "api-v2-products" / "199021738.json"
    assert main(["extract", "--url", "https://tiki.vn/api/v2/products/199021738", str(path)]) == 0
    (row,) = _rows(capsys.readouterr().out)
    assert row["listing_id"] == "199021738" and row["price"] == 234220 and row["original_price"] == 239000
    assert row["seller_name"] == "MAYHOMES Official Store" and row["seller_official"] is True
    assert row["sold"] == 43 and row["rating"] == 5 and row["availability"] == "InStock" and row["brand"] == "MAYHOMES"


def test_marketplace_from_content_when_the_url_says_nothing(shared_data: Path, isolated_settings, capsys) -> None:
    path = shared_data / "shopee" / "api-v4-item-get-3391609027.json"
    assert main(["extract", "--url", "https://mirror.example/saved", str(path)]) == 0
    (row,) = _rows(capsys.readouterr().out)
    assert row["marketplace"] == "shopee" and row["listing_id"] == "85794847.3391609027" and row["price"] == 50000


def test_forced_marketplace(shared_data: Path, isolated_settings: Settings, capsys) -> None:
    path = shared_data / "websosanh" / "results-fragment.html"
    assert main(["extract", "--marketplace", "websosanh", "--url", "https://mirror.example/s", str(path)]) == 0
    assert len(_rows(capsys.readouterr().out)) == 41


def test_renamed_field_exits_1_naming_it(shared_data: Path, tmp_path: Path, isolated_settings, capsys) -> None:
    data = json.loads((shared_data / "shopee" / "api-v4-item-get-3391609027.json").read_bytes())
    data["data"]["title"] = data["data"].pop("name")
    saved = tmp_path / "item.json.gz"
    saved.write_bytes(gzip.compress(json.dumps(data).encode()))
    assert main(["extract", "--url", "https://shopee.vn/api/v4/item/get?itemid=1&shopid=2", str(saved)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "'data.name'" in captured.err


def test_garbage_and_bad_gzip_exit_1(tmp_path: Path, isolated_settings: Settings, capsys) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00\xffnot json at all")
    assert main(["extract", "--url", "https://tiki.vn/api/v2/products/1", str(garbage)]) == 1
    assert "'product'" in capsys.readouterr().err
    truncated = tmp_path / "cut.gz"
    truncated.write_bytes(gzip.compress(b'{"data": []}' * 100)[:30])
    assert main(["extract", "--url", "https://tiki.vn/api/v2/products?q=x", str(truncated)]) == 1
    assert "gzip" in capsys.readouterr().err


def test_unknown_marketplace_and_missing_file_exit_2(shared_data: Path, isolated_settings, capsys) -> None:
    path = shared_data / "websosanh" / "results-fragment.html"
    assert main(["extract", "--marketplace", "amazon", "--url", "https://x.example/", str(path)]) == 2
    assert "amazon" in capsys.readouterr().err
    assert main(["extract", "--url", "https://tiki.vn/x", "/nonexistent/file.json"]) == 2
    assert "/nonexistent/file.json" in capsys.readouterr().err


def test_detect_by_host_then_content(shared_data: Path) -> None:
    assert registry.detect("https://shop-home.sendo.vn/api/v1/product/filter", b"{}") == "sendo"
    assert registry.detect("https://www.lazada.co.th/catalog/", b"") == "lazada"
    assert registry.detect("https://evil-tiki.vn.example.com/", b"") == "webshop"
    trimmed = shared_data / "tiki" / "seller-store-items" / "tiki__dem-ha-noi__2021-09-22.json"
    assert registry.detect("", trimmed.read_bytes()) == "tiki"
    assert registry.detect("", (shared_data / "sendo" / "data__data.json").read_bytes()) == "sendo"
    for page in sorted((shared_data / "webshop-benchmark" / "html").glob("*.html.gz"))[:10]:
        assert registry.detect("https://shop.example/p", gzip.decompress(page.read_bytes())) == "webshop"


def test_parse_any_and_the_webshop_parser_loaded_lazily(shared_data: Path) -> None:
    body = (shared_data / "sendo" / "datainfo__datainfo.json").read_bytes()
    result = registry.parse_any(body, "https://detail-api.sendo.vn/full/x")
    assert isinstance(result, Parsed) and result.listings[0].listing_id == "34406369"
    if importlib.util.find_spec("crawler.pages.webshop") is None:
        with pytest.raises(registry.UnknownMarketplace, match=r"webshop\.py"):
            registry.parser_for("webshop")
    else:
        assert registry.parser_for("webshop").MARKETPLACE == "webshop"


_ODD_VALUES = [None, "", " ", 0, -1, 1e300, True, [], {}, "abc", "x" * 5000, [1, 2], {"a": 1}, "\u202e\x00"]
_JSON_CASES = [
    ("tiki", "tiki/api-v2-products/36079551.json", "https://tiki.vn/api/v2/products/36079551"),
    ("shopee", "shopee/api-v4-item-get-3391609027.json", "https://shopee.vn/api/v4/item/get?itemid=1&shopid=2"),
    ("lazada", "lazada/listitems-zinus-official-store-2021-09-22.json", "https://www.lazada.vn/s/?ajax=true"),
    ("sendo", "sendo/data__data.json", "https://shop-home.sendo.vn/api/v1/product/filter?limit=30&page=1"),
    ("sendo", "sendo/datainfo__datainfo.json", "https://detail-api.sendo.vn/full/x"),
]


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found: list[tuple] = []
    items = node.items() if isinstance(node, dict) else enumerate(node[:2]) if isinstance(node, list) else []
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


@pytest.mark.parametrize(("source", "name", "url"), _JSON_CASES)
def test_mutated_real_json_gives_a_listing_or_an_extraction_error(shared_data: Path, source, name, url) -> None:
    """Odd values or removed keys anywhere in a real response: never a crash other than ExtractionError."""
    raw = (shared_data / name).read_bytes()
    paths = _paths(json.loads(raw))
    rnd = random.Random(7)
    outcomes = {"listings": 0, "refused": 0}
    for _ in range(150):
        data = json.loads(raw)
        path = rnd.choice(paths)
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rnd.random() < 0.2:
            del parent[path[-1]]
        else:
            parent[path[-1]] = rnd.choice(_ODD_VALUES)
        try:
            registry.SOURCES[source].parse(json.dumps(data).encode(), url)
            outcomes["listings"] += 1
        except ExtractionError:
            outcomes["refused"] += 1
    assert outcomes["listings"] and outcomes["refused"]  # both happen: the mutations did reach the parser
