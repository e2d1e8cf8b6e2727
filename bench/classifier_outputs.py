"""Whether two versions of the classifier say the same: fuzzed listings scored by each, compared.

    python -m bench.classifier_outputs --against /tmp/clf-base [--n 6000]

A change meant to alter only speed or layout must leave every score, flag and reason as it was.
The listings are generated here, deterministically: the seed generator's templates run with other
random seeds, and each title is then disguised the way sellers dodge filters (names spelled
apart, digits and look-alike letters for letters, zero-width characters, stretched letters,
marks dropped, case changed). The real listings of ../shared/data/listing-benchmark, plain and
disguised alike, are added when that folder is there. Each version scores them twice in one
scorer (the second pass is answered from its kept readings) in a process of its own, with the
model it trains from its own seed data; scores are compared rounded to 12 places, flags and
reasons exactly.

`--against` is the root of another checkout (e.g. `git worktree add /tmp/clf-base COMMIT`).
Exit code 0 when both say the same, 1 when they differ (the first differences are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 13
DIGITS_FOR_LETTERS = {"o": "0", "i": "1", "e": "3", "a": "@", "s": "$"}
LOOK_ALIKES = {"p": "ρ", "o": "ο", "a": "а", "e": "е", "c": "с", "i": "і"}
ZERO_WIDTH = ["\u200b", "\u00ad", "\ufeff"]


def disguise(title: str, names: list[str], rng: random.Random) -> str:
    """The title with one of the sellers' tricks applied, to a brand name in it when it holds one."""
    from classifier.offline.seedgen import _obfuscate

    trick = rng.randrange(8)
    named = next((n for n in names if n.lower() in title.lower()), None)
    if named and trick < 3:
        start = title.lower().index(named.lower())
        return title[:start] + _obfuscate(title[start : start + len(named)], rng) + title[start + len(named) :]
    if trick == 3:
        return "".join(DIGITS_FOR_LETTERS.get(c, c) if rng.random() < 0.3 else c for c in title)
    if trick == 4:
        return "".join(LOOK_ALIKES.get(c, c) if rng.random() < 0.3 else c for c in title)
    if trick == 5:
        at = rng.randrange(len(title) + 1)
        return title[:at] + rng.choice(ZERO_WIDTH) + title[at:]
    if trick == 6:
        at = rng.randrange(len(title))
        return title[:at] + title[at] * rng.randint(3, 6) + title[at:]
    from classifier.normalize import fold

    return rng.choice([fold(title), title.upper(), "  ".join(title.split())])


def seed_section(n: int) -> dict[str, Any]:
    from classifier.offline.seedgen import _Gen
    from classifier.seed_data import seed_brands

    brands = seed_brands()
    names = [name for b in brands for name in b.names]
    rng = random.Random(SEED)
    listings: list[dict[str, Any]] = []
    round_ = 0
    while len(listings) < n:
        generator = _Gen(brands)
        generator.rng = random.Random(SEED * 1000 + round_)
        for row in generator.run():
            doc = dict(row["listing"])
            doc["listing_id"] = f"fuzz{len(listings):05d}"
            if rng.random() < 0.7:
                doc["title"] = disguise(doc["title"], names, rng)
            listings.append(doc)
        round_ += 1
    return {"brands": [b.model_dump(mode="json") for b in brands], "listings": listings[:n]}


def benchmark_section() -> dict[str, Any] | None:
    from classifier.benchmark_files import read_brands, to_listing
    from classifier.offline.evaluate import DEFAULT_DATA

    if not (DEFAULT_DATA / "listings.jsonl").is_file():
        return None
    brands = read_brands(DEFAULT_DATA / "brands.json")
    names = [name for b in brands for name in b.names]
    rng = random.Random(SEED)
    raws = [json.loads(line) for line in (DEFAULT_DATA / "listings.jsonl").read_text().splitlines() if line.strip()]
    listings = []
    for i, raw in enumerate(raws * 2):
        doc = to_listing(raw).model_dump(mode="json")
        doc["listing_id"] = f"bench{i:05d}"
        if i >= len(raws):
            doc["title"] = disguise(doc["title"], names, rng)
        listings.append(doc)
    return {"brands": [b.model_dump(mode="json") for b in brands], "listings": listings}


def score(listings_path: Path, out_path: Path) -> None:
    """Score the generated listings with the classifier importable here (the checkout on PYTHONPATH)."""
    try:
        from classifier.seed_data import seed_brands  # noqa: F401  (only to tell the layout)
        from classifier.training.fit import train_seed
    except ImportError:  # a checkout from before the classifier's training package
        from classifier.model import train_seed  # type: ignore[no-redef]
    from classifier.scoring import Scorer
    from kcnguard.records import Brand, Listing

    model = train_seed()
    sections = json.loads(listings_path.read_text())
    result: dict[str, list[list[Any]]] = {}
    for name, section in sections.items():
        brands = [Brand.model_validate(b) for b in section["brands"]]
        listings = [Listing.model_validate(doc) for doc in section["listings"]]
        scorer = Scorer(brands, model)
        for run in ("fresh", "kept"):
            result[f"{name} {run}"] = [
                [
                    j.listing.listing_id,
                    j.brand_id,
                    round(j.score, 12),
                    j.flagged,
                    [[r.code, r.weight, r.vi, r.en] for r in j.reasons],
                ]
                for start in range(0, len(listings), 1000)
                for j in scorer.judge_many(listings[start : start + 1000])
            ]
    out_path.write_text(json.dumps({"model_version": model.version, "outputs": result}, ensure_ascii=False))


def _score_in(root: Path, listings_path: Path, out_path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run(
        # -P: the checkout's packages, not this script's folder (bench/classifier.py is no package).
        [sys.executable, "-P", str(Path(__file__).resolve()), "score", str(listings_path), str(out_path)],
        check=True,
        cwd=root,
        env=env,
    )
    return json.loads(out_path.read_text())


def compare(against: Path, n: int) -> int:
    sections = {"seed": seed_section(n)}
    benchmark = benchmark_section()
    if benchmark is not None:
        sections["benchmark"] = benchmark
    with tempfile.TemporaryDirectory() as tmp:
        listings_path = Path(tmp) / "listings.json"
        listings_path.write_text(json.dumps(sections, ensure_ascii=False))
        ours = _score_in(ROOT, listings_path, Path(tmp) / "ours.json")
        theirs = _score_in(against.resolve(), listings_path, Path(tmp) / "theirs.json")
    rows = sum(len(v) for v in ours["outputs"].values())
    print(f"models: {ours['model_version']} here, {theirs['model_version']} in {against}")
    differences = 0
    for key, mine in ours["outputs"].items():
        other = theirs["outputs"].get(key, [])
        if len(mine) != len(other):
            print(f"{key}: {len(mine)} judgements here, {len(other)} there")
            differences += 1
        for a, b in zip(mine, other, strict=False):
            if a != b:
                differences += 1
                if differences <= 5:
                    print(f"{key}: differs\n  here:  {json.dumps(a, ensure_ascii=False)[:400]}")
                    print(f"  there: {json.dumps(b, ensure_ascii=False)[:400]}")
    listings = sum(len(s["listings"]) for s in sections.values())
    verdict = "identical" if not differences else f"{differences} differences"
    print(f"{listings} listings, {rows} judgements over both passes: {verdict}")
    return 0 if not differences else 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["score"]:
        score(Path(args[1]), Path(args[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="root of the other checkout")
    parser.add_argument("--n", type=int, default=6000, help="fuzzed seed listings")
    parsed = parser.parse_args(args)
    return compare(parsed.against, parsed.n)


if __name__ == "__main__":
    raise SystemExit(main())
