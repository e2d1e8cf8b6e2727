"""Training, versioned model artifacts, the promotion rule and the `train` / `model` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier.artifacts import MODEL_FILE, ArtifactError, ModelRegistry, read_artifact
from classifier.model import TrainedModel
from classifier.scoring import Scorer
from classifier.seed_data import seed_brands, seed_rows, seed_version
from classifier.training.default_model import build_seed_artifact, ensure_current
from classifier.training.fit import train
from classifier.training.pinning import check_against_pin, pinned_default
from classifier.training.promotion import promote
from classifier.training.rows import DECISIONS, Row, decision_rows, read_labelled, seed_training_rows, training_digest
from classifier.training.split import holdout_split
from kcnguard.records import Case, CaseState
from kcnguard.store import Store
from kcnguard.store.sqlite import SqliteDocumentStore
from launcher.cli import main


@pytest.fixture(scope="module")
def seed_artifact(tmp_path_factory: pytest.TempPathFactory):
    registry = ModelRegistry(tmp_path_factory.mktemp("registry"))
    manifest, model = build_seed_artifact(registry, None)
    return registry, manifest, model


def copy_registry(source: ModelRegistry, target: Path) -> ModelRegistry:
    import shutil

    shutil.copytree(source.root, target)
    return ModelRegistry(target)


def test_an_artifact_round_trips_with_its_manifest(seed_artifact) -> None:
    registry, manifest, model = seed_artifact
    loaded_manifest, loaded = registry.load(model.version)
    assert loaded.version == model.version == seed_version()
    assert loaded_manifest.training_digest == training_digest(seed_training_rows())
    assert list(loaded_manifest.rows) == ["seed"] and sum(loaded_manifest.rows["seed"].values()) == len(seed_rows())
    assert loaded_manifest.sklearn_version and loaded_manifest.model_sha256 == manifest.model_sha256
    assert loaded_manifest.metrics is not None and "out-of-fold" in loaded_manifest.metrics.data
    listings = [listing for listing, _ in seed_rows()[:40]]
    before = [s.score for s in Scorer(seed_brands(), model).score_many(listings)]
    after = [s.score for s in Scorer(seed_brands(), loaded).score_many(listings)]
    assert after == pytest.approx(before)


def test_the_same_training_gives_the_same_bytes(seed_artifact, tmp_path: Path) -> None:
    _registry, manifest, _model = seed_artifact
    again, _ = build_seed_artifact(ModelRegistry(tmp_path), None)
    assert again.model_sha256 == manifest.model_sha256


def test_a_tampered_artifact_is_refused(seed_artifact, tmp_path: Path) -> None:
    registry = copy_registry(seed_artifact[0], tmp_path / "models")
    version = seed_artifact[2].version
    registry.set_current(version, by="test", reason="test")
    model_file = registry.path(version) / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="changed after it was written"):
        registry.load(version)
    with pytest.raises(ArtifactError, match="changed after it was written"):
        ensure_current(tmp_path, None)  # the worker refuses it too, rather than score with it


def test_a_rewritten_manifest_does_not_pass_the_pointer(seed_artifact, tmp_path: Path) -> None:
    registry = copy_registry(seed_artifact[0], tmp_path / "models")
    version = seed_artifact[2].version
    registry.set_current(version, by="test", reason="test")
    # Someone swaps the model and updates its manifest to match: the pointer still remembers.
    artifact = registry.path(version)
    (artifact / MODEL_FILE).write_bytes((artifact / MODEL_FILE).read_bytes() + b"\0")
    manifest = json.loads((artifact / "manifest.json").read_text())
    from kcnguard.evidence import file_digest

    manifest["model_sha256"] = file_digest(artifact / MODEL_FILE)
    (artifact / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="registry's pointer"):
        registry.load(version)


def test_a_bare_model_file_is_not_loaded_without_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"not even a pickle")
    with pytest.raises(ArtifactError, match="not a model artifact"):
        read_artifact(tmp_path)


def test_the_shipped_default_is_not_stale(seed_artifact) -> None:
    """Fails once the seed data, lexicon, parameters or features change.

    Then rebuild the pin: python -m classifier.training pin-default (and review its metrics).
    """
    _registry, manifest, _model = seed_artifact
    pinned = pinned_default()
    assert pinned["version"] == seed_version(), "stale: run python -m classifier.training pin-default"
    assert check_against_pin(manifest) == [], "stale: run python -m classifier.training pin-default"


@pytest.fixture(scope="module")
def worse() -> TrainedModel:
    """A deliberately worse model: the seed data with every label flipped."""
    return train([(listing, 1 - label) for listing, label in seed_rows()], seed_brands(), "worse-1")


def test_a_less_precise_model_is_not_promoted_unless_forced(seed_artifact, worse, tmp_path: Path) -> None:
    registry = copy_registry(seed_artifact[0], tmp_path / "models")
    good = seed_artifact[2].version
    registry.set_current(good, by="test", reason="test")
    manifest = registry.save(worse, _manifest_for(worse, seed_artifact[1]))
    eval_rows = holdout_split(seed_training_rows())[1]

    kept = promote(registry, manifest, eval_rows, seed_brands(), threshold=None)
    assert not kept.promoted and "lower, not promoted" in kept.decision
    assert kept.current_metrics is not None and kept.current_metrics.precision > manifest.metrics.precision
    assert registry.current_version() == good
    assert worse.version in {m.version for m in registry.versions()}  # kept, to inspect or use by hand

    forced = promote(registry, manifest, eval_rows, seed_brands(), threshold=None, force=True)
    assert forced.promoted and "--force" in forced.decision
    assert registry.current_version() == worse.version


def _manifest_for(model: TrainedModel, like, **changes: str):
    from dataclasses import replace

    from classifier.training.metrics import evaluate

    eval_rows = holdout_split(seed_training_rows())[1]
    metrics = evaluate(model, eval_rows, seed_brands(), None, "held-out seed rows")
    return replace(like, version=model.version, kind="trained", metrics=metrics, model_sha256="", **changes)


def test_bad_labelled_rows_are_reported_with_their_line_numbers(tmp_path: Path) -> None:
    good = {"id": "shopee:1", "marketplace": "shopee", "title": "Giày Lotus Step rep 1:1", "price_vnd": 150000}
    lines = [
        json.dumps({**good, "label": 1, "query_brand_id": "lotus-step"}),
        "{not json",
        json.dumps({**good, "id": "shopee:3", "label": 2}),
        json.dumps({"id": "shopee:4", "label": 0, "marketplace": "shopee"}),
        "",
        json.dumps({**good, "id": "shopee:6", "label": 0, "price_vnd": -5}),
        json.dumps({"label": 1, "listing": seed_rows()[0][0].model_dump(mode="json")}),
    ]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(lines) + "\n")
    loaded = read_labelled(path)
    assert [r.origin for r in loaded.rows] == ["labelled.jsonl line 1", "labelled.jsonl line 7"]
    assert [p.split(":")[0] for p in loaded.problems] == [
        "labelled.jsonl line 2",
        "labelled.jsonl line 3",
        "labelled.jsonl line 4",
        "labelled.jsonl line 6",
    ]
    assert "label must be 0 or 1" in loaded.problems[1] and "title" in loaded.problems[2]


def test_inspectors_decisions_become_training_rows(tmp_path: Path) -> None:
    store = Store(SqliteDocumentStore(tmp_path / "store.sqlite3", namespace="t"))
    store.setup()
    rows = seed_rows()
    fake = next(listing for listing, label in rows if label == 1)
    real = next(listing for listing, label in rows if label == 0)
    store.upsert_listings([fake, real])
    decided = {}
    for listing, state in ((fake, CaseState.CONFIRMED), (real, CaseState.DISMISSED)):
        case = Case.open_for(listing.key, listing.query_brand_id, 0.9, actor="classifier")
        stored, _ = store.open_case(case)
        store.save_case(stored.record.transition(state, "inspector-a"), stored.version)
        decided[listing.key] = state
    undecided = Case.open_for("shopee:elsewhere", "lotus-step", 0.8, actor="classifier")
    store.open_case(undecided)
    gone = Case.open_for("shopee:gone", "lotus-step", 0.8, actor="classifier")
    stored, _ = store.open_case(gone)
    store.save_case(stored.record.transition(CaseState.CONFIRMED, "inspector-b"), stored.version)
    store.refresh()

    loaded = decision_rows(store)
    store.close()
    assert {(r.listing.key, r.label, r.source) for r in loaded.rows} == {
        (fake.key, 1, DECISIONS),
        (real.key, 0, DECISIONS),
    }
    assert all(r.listing.query_brand_id for r in loaded.rows)
    assert len(loaded.problems) == 1 and "shopee:gone" in loaded.problems[0]


def test_the_held_out_split_is_stable_and_disjoint() -> None:
    rows = seed_training_rows()
    kept, held = holdout_split(rows)
    again_kept, again_held = holdout_split(list(reversed(rows)))
    assert {r.listing.key for r in held} == {r.listing.key for r in again_held}
    assert not {r.listing.key for r in held} & {r.listing.key for r in kept}
    assert {r.label for r in held} == {0, 1} and len(held) + len(kept) == len(rows)
    assert training_digest(kept) == training_digest(again_kept)
    assert training_digest(kept) != training_digest(
        [Row(listing=r.listing, label=1 - r.label, source=r.source) for r in kept]
    )


def test_the_worker_builds_the_default_and_keeps_a_trained_current(worse, tmp_path: Path) -> None:
    manifest, model = ensure_current(tmp_path, None)
    registry = ModelRegistry(tmp_path / "models")
    assert model.version == seed_version() and registry.current_version() == seed_version()
    registry.save(worse, _manifest_for(worse, manifest))
    registry.set_current(worse.version, by="test", reason="test")
    assert ensure_current(tmp_path, None)[1].version == worse.version

    # Trained on features that have since changed meaning: its scores would be wrong, so the default runs.
    registry.save(worse, _manifest_for(worse, manifest, features_version="0"))
    registry.set_current(worse.version, by="test", reason="test")
    assert ensure_current(tmp_path, None)[1].version == seed_version() == registry.current_version()
    assert "features changed" in json.loads((registry.root / "current").read_text())["reason"]


def run_cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_and_model_commands(isolated_settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli("train", "--seed", capsys=capsys)
    assert code == 0 and seed_version() in out and "now current" in out
    code, out, _ = run_cli("model", "list", capsys=capsys)
    assert code == 0 and f"* {seed_version()}" in out
    code, out, _ = run_cli("model", "show", capsys=capsys)
    assert code == 0 and json.loads(out)["version"] == seed_version()
    code, _, err = run_cli("model", "use", "no-such-version", capsys=capsys)
    assert code == 2 and "no model no-such-version" in err
    code, _, err = run_cli("train", "--labelled", str(tmp_path / "absent.jsonl"), capsys=capsys)
    assert code == 2 and "absent.jsonl" in err

    # Labelled rows: seed listings under new ids; a line that is broken is reported, not fatal.
    labelled = tmp_path / "labelled.jsonl"
    lines = []
    for number, (listing, label) in enumerate(seed_rows()[::4]):
        copy = listing.model_copy(update={"listing_id": f"extra{number}"})
        lines.append(json.dumps({"label": label, "listing": copy.model_dump(mode="json")}))
    lines.insert(3, '{"label": 1}')
    labelled.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli("train", "--labelled", str(labelled), capsys=capsys)
    assert code in (0, 3), err
    assert "labelled.jsonl line 4" in err
    assert "new:" in out and f"current: {seed_version()}" in out and "precision" in out
    trained = out.split()[1]
    code, out, _ = run_cli("model", "use", seed_version(), capsys=capsys)
    assert code == 0 and ModelRegistry(isolated_settings.data_dir / "models").current_version() == seed_version()
    code, out, _ = run_cli("model", "use", trained, capsys=capsys)
    assert code == 0 and f"model {trained} is now current" in out


def test_training_on_the_labelled_benchmark(isolated_settings, shared_data: Path, capsys) -> None:
    bench = shared_data / "listing-benchmark"
    code, out, err = run_cli(
        "train", "--labelled", str(bench / "listings.jsonl"), "--brands", str(bench / "brands.json"), capsys=capsys
    )
    assert code == 0, err
    assert '"file":' in out and "held-out 20% of the file and store rows" in out
    assert "judged against no brand" in err  # unbranded rows cannot train, and say so


def test_train_from_store_learns_from_the_inspectors_decisions(
    isolated_settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from kcnguard.store import open_store

    store = open_store()
    store.setup()
    decided = [
        (listing.model_copy(update={"listing_id": f"decided{n}"}), label)
        for n, (listing, label) in enumerate(seed_rows()[:6])
    ]
    store.upsert_listings([listing for listing, _ in decided])
    for listing, label in decided:
        stored, _ = store.open_case(Case.open_for(listing.key, listing.query_brand_id, 0.7, actor="classifier"))
        state = CaseState.CONFIRMED if label else CaseState.DISMISSED
        store.save_case(stored.record.transition(state, "inspector-a"), stored.version)
    store.refresh()
    store.close()
    code, out, err = run_cli("train", "--from-store", capsys=capsys)
    assert code == 0, err
    counts = json.loads(out.split("rows: ", 1)[1].split("; training digest")[0])
    assert sum(counts["decisions"].values()) == len(decided)
    assert "held-out 20% of the seed rows" in out


def test_rows_of_the_evaluation_file_are_never_trained_on(tmp_path: Path) -> None:
    from classifier.training.run import TrainRequest, run_training

    rows = seed_rows()
    extra = [
        (listing.model_copy(update={"listing_id": f"x{n}"}), label) for n, (listing, label) in enumerate(rows[:40])
    ]
    lines = [json.dumps({"label": label, "listing": listing.model_dump(mode="json")}) for listing, label in extra]
    (tmp_path / "both.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "eval.jsonl").write_text("\n".join(lines[:10]) + "\n")
    request = TrainRequest(labelled=tmp_path / "both.jsonl", eval_file=tmp_path / "eval.jsonl")
    outcome = run_training(request, ModelRegistry(tmp_path / "models"))
    assert outcome.manifest.rows["file"] == {
        "0": 30 - sum(label for _, label in extra[10:]),
        "1": sum(label for _, label in extra[10:]),
    }
    assert sum("also in the evaluation file" in p for p in outcome.problems) == 10
    assert outcome.manifest.metrics is not None and outcome.manifest.metrics.rows == 10
