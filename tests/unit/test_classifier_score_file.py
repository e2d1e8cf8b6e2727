"""`kcnguard score`: one JSON object per listing, bad rows reported by line number, the rest still scored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from classifier.model import TrainedModel
from classifier.offline.file_scoring import score_file
from classifier.training.fit import train_seed

BRANDS = [
    {
        "brand_id": "nike",
        "name": "Nike",
        "aliases": ["nike", "air force", "jordan", "jd"],
        "category": "footwear",
        "reference_price_vnd": {"min": 1200000},
        "official_sellers": [{"marketplace": "shopee", "seller_name": "Nike Official Store"}],
    },
    {
        "brand_id": "samsung",
        "name": "Samsung",
        "aliases": ["samsung", "s.amsung", "galaxy", "ss"],
        "category": "electronics",
        "reference_price_vnd": {"min": 150000},
        "official_sellers": [],
    },
]


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return train_seed()


@pytest.fixture
def brands_file(tmp_path: Path) -> Path:
    path = tmp_path / "brands.json"
    path.write_text(json.dumps(BRANDS), encoding="utf-8")
    return path


def run(brands: Path, lines: list[str], model: TrainedModel, **kwargs: object) -> tuple[int, list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    code = score_file(brands, io.StringIO("\n".join(lines) + "\n"), out, err, model, **kwargs)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def row(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_one_object_per_listing_in_input_order(brands_file: Path, model: TrainedModel) -> None:
    code, results, err = run(
        brands_file,
        [
            row(id="a", title="Giày Nike Air Force 1 rep 1:1 siêu cấp", price_vnd=250000, query_brand_id="nike"),
            row(id=7, title="Ốp lưng Samsung A11 trong suốt", price_vnd=30000, marketplace="shopee"),
            row(id="c", title="Giày sneaker nam trắng", price_vnd=200000),
        ],
        model,
    )
    assert code == 0 and err == ""
    assert [r["id"] for r in results] == ["a", 7, "c"]
    for result in results:
        assert set(result) == {"id", "brand_id", "score", "flagged", "reasons"}
        assert 0.0 <= result["score"] <= 1.0 and isinstance(result["flagged"], bool)
        assert all(isinstance(reason, str) and reason for reason in result["reasons"])
        assert result["flagged"] == (result["score"] >= model.threshold)
    fake, case, generic = results
    assert fake["brand_id"] == "nike" and fake["flagged"] and any("rep 1:1" in r for r in fake["reasons"])
    assert case["brand_id"] == "samsung" and not case["flagged"]
    assert generic["brand_id"] is None and generic["score"] == 0.0 and not generic["flagged"]


def test_a_broken_line_is_reported_with_its_number_and_the_rest_is_scored(brands_file: Path, model: TrainedModel):
    code, results, err = run(
        brands_file,
        [
            row(id="1", title="Giày Nike Jordan 1 like auth", price_vnd=300000),
            '{"id": "2", "title": "broken',
            row(id="3", title="Giày Nike chính hãng", price_vnd=2500000, seller_name="Nike Official Store"),
        ],
        model,
    )
    assert code == 1
    assert [r["id"] for r in results] == ["1", "3"]
    assert "line 2: not valid JSON" in err


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"id": "x", "title": "Giày Nike", "price_vnd": "rẻ"}, "'price_vnd' must be int or float, not str"),
        ({"id": "x", "title": 12}, "'title' must be str, not int"),
        ({"id": "x", "title": "Giày Nike", "seller_is_official": "yes"}, "'seller_is_official' must be bool"),
        ({"id": "x", "title": "Giày Nike", "price_vnd": True}, "'price_vnd' must be int or float, not bool"),
        ({"id": "x"}, "missing 'title'"),
        ({"title": "Giày Nike"}, "missing 'id'"),
        ({"id": "x", "title": "Giày Nike", "price_vnd": -5}, "price"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_wrong_types_get_a_clear_error(brands_file: Path, model: TrainedModel, bad: object, message: str) -> None:
    code, results, err = run(brands_file, [json.dumps(bad), row(id="ok", title="Giày Nike Air Force 1")], model)
    assert code == 1 and [r["id"] for r in results] == ["ok"]
    assert err.startswith("line 1: ") and message in err, err


def test_extra_keys_are_ignored_and_optional_ones_may_be_missing(brands_file: Path, model: TrainedModel) -> None:
    code, results, _ = run(
        brands_file, [row(id="1", title="Giày N.I.K.E Air Force", label_reason="x", whatever=[1, 2])], model
    )
    assert code == 0 and results[0]["brand_id"] == "nike"


def test_seller_history_fields_feed_the_seller_signal(brands_file: Path, model: TrainedModel) -> None:
    listing = {"title": "Giày Nike Air Force 1 trắng", "price_vnd": 600000, "seller_name": "Shop ABC"}
    code, results, _ = run(
        brands_file,
        [
            row(id="clean", **listing, marketplace="shopee", seller_flagged_share=0.0, seller_listing_count=40),
            row(id="bad", **listing, marketplace="lazada", seller_flagged_share=0.95, seller_listing_count=40),
            row(id="unknown", **listing, marketplace="tiki"),
        ],
        model,
    )
    scores = {r["id"]: r["score"] for r in results}
    assert code == 0 and scores["clean"] < scores["unknown"] < scores["bad"]
    bad = next(r for r in results if r["id"] == "bad")
    assert any("95%" in reason for reason in bad["reasons"])


def test_reasons_in_english_on_request(brands_file: Path, model: TrainedModel) -> None:
    _, results, _ = run(brands_file, [row(id="1", title="Giày Nike rep 1:1", price_vnd=200000)], model, lang="en")
    assert any("counterfeit vocabulary" in r for r in results[0]["reasons"])


def test_an_unusable_brands_file_stops_with_exit_code_2(tmp_path: Path, model: TrainedModel) -> None:
    path = tmp_path / "brands.json"
    path.write_text(json.dumps([{"brand_id": "x"}]))
    code, results, err = run(path, [row(id="1", title="Giày")], model)
    assert code == 2 and results == [] and "brand 1 (x) is invalid" in err
    path.write_text("{not json")
    assert run(path, [row(id="1", title="Giày")], model)[0] == 2


def test_the_command_is_wired_into_kcnguard(
    brands_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kcnguard.settings import get_settings
    from launcher.cli import main

    monkeypatch.setenv("KCNGUARD_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    listings = tmp_path / "listings.jsonl"
    listings.write_text(row(id="1", title="Giày Nike Jordan 1 rep 1:1", price_vnd=250000) + "\n", encoding="utf-8")
    try:
        code = main(["score", "--brands", str(brands_file), "--listings", str(listings)])
    finally:
        get_settings.cache_clear()
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and printed[0]["id"] == "1" and printed[0]["flagged"]
