"""What the shipped default model must be, pinned in classifier/data/default_model.json.

Committed, so a change to the seed data or the features shows in review; a default built from
other data than the pin is logged. `python -m classifier.training pin-default` re-pins it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from classifier.artifacts import Manifest, ModelRegistry

PINNED_DEFAULT = Path(__file__).parents[1] / "data" / "default_model.json"


def pinned_default() -> dict[str, Any]:
    """What the shipped default model must be: committed, so a change to the seed data shows in review."""
    return json.loads(PINNED_DEFAULT.read_text(encoding="utf-8"))


def pin_default(manifest: Manifest) -> dict[str, Any]:
    pinned = {
        "version": manifest.version,
        "training_digest": manifest.training_digest,
        "model_sha256": manifest.model_sha256,
        "sklearn_version": manifest.sklearn_version,
        "rows": manifest.rows,
        "metrics": manifest.metrics.__dict__ if manifest.metrics else None,
    }
    PINNED_DEFAULT.write_text(json.dumps(pinned, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return pinned


def check_against_pin(manifest: Manifest) -> list[str]:
    """Differences between a freshly built default and the pinned one, in words (empty: it matches)."""
    try:
        pinned = pinned_default()
    except (OSError, ValueError) as exc:
        return [f"no pinned default model ({exc})"]
    out = []
    for key in ("version", "training_digest", "model_sha256"):
        if pinned.get(key) != getattr(manifest, key):
            out.append(f"{key}: pinned {pinned.get(key)}, built {getattr(manifest, key)}")
    return out


def main(argv: list[str] | None = None) -> int:
    """python -m classifier.training pin-default: rebuild the default model and pin what it is."""
    import argparse
    import tempfile

    from classifier.training.default_model import build_seed_artifact

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["pin-default"])
    parser.add_argument("--threshold", type=float, default=None, help="default: the model's own")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        manifest, _ = build_seed_artifact(ModelRegistry(Path(tmp)), args.threshold)
    print(json.dumps(pin_default(manifest), ensure_ascii=False, indent=2, sort_keys=True))
    return 0
