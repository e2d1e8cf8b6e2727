"""Versioned model artifacts and the registry that holds them (data_dir/models).

One directory per version: `model.joblib` (the fitted pipeline) and `manifest.json` (how it was
made and how well it did). The manifest carries the SHA-256 of `model.joblib`, and the registry's
`current` pointer repeats it: joblib runs code when it loads, so no file is unpickled before its
bytes match the digest recorded when we wrote it. A tampered or truncated artifact is refused.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib

from classifier.model import TrainedModel
from kcnguard.evidence import file_digest
from kcnguard.records import utcnow

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "current"
# Versions name directories: nothing that could climb out of the registry.
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ArtifactError(ValueError):
    """A model artifact that is missing, malformed or not the bytes it claims to be."""


@dataclass(frozen=True)
class Metrics:
    """How a model did on evaluation data it was not trained on, at the flag threshold."""

    data: str  # which evaluation data, in words
    rows: int
    positives: int
    threshold: float
    precision: float
    recall: float
    pr_auc: float
    flagged: int


@dataclass
class Manifest:
    version: str
    kind: str  # "seed": the default, from the project's seed data only; "trained": `kcnguard train`
    created_at: str
    sklearn_version: str
    features_version: str
    training_digest: str  # SHA-256 over the canonical training rows
    rows: dict[str, dict[str, int]]  # source -> {"0": n, "1": n}
    metrics: Metrics | None
    model_sha256: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Manifest:
        try:
            raw = json.loads(text)
            metrics = raw.pop("metrics", None)
            return cls(**raw, metrics=Metrics(**metrics) if metrics else None)
        except (ValueError, TypeError) as exc:
            raise ArtifactError(f"{where}: not a model manifest ({exc})") from None


def check_version(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise ArtifactError(f"model version {version!r} must be letters, digits, '.', '_' or '-' (up to 128)")
    return version


def read_artifact(directory: Path, expected_sha256: str | None = None) -> tuple[Manifest, TrainedModel]:
    """Load an artifact directory, refusing it unless its model file matches the recorded digest(s)."""
    manifest_path, model_path = directory / MANIFEST_FILE, directory / MODEL_FILE
    if not manifest_path.is_file() or not model_path.is_file():
        raise ArtifactError(f"{directory} is not a model artifact (needs {MANIFEST_FILE} and {MODEL_FILE})")
    manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"), str(manifest_path))
    actual = file_digest(model_path)
    for recorded, where in ((manifest.model_sha256, "its manifest"), (expected_sha256, "the registry's pointer")):
        if recorded is not None and actual != recorded:
            raise ArtifactError(
                f"model artifact {directory} refused: {MODEL_FILE} has SHA-256 {actual}, "
                f"{where} says {recorded or '(none)'}; it was changed after it was written. "
                "Retrain it (kcnguard train) or switch to another version (kcnguard model use VERSION)"
            )
    blob = joblib.load(model_path)
    if not isinstance(blob, dict) or blob.get("version") != manifest.version or not isinstance(blob.get("model"), dict):
        raise ArtifactError(f"{model_path} does not hold model {manifest.version}")
    try:
        model = TrainedModel(**blob["model"])
    except TypeError as exc:
        raise ArtifactError(
            f"model {manifest.version} was written by another version of KCN Guard ({exc}); retrain it (kcnguard train)"
        ) from None
    return manifest, model


def _reproducible(pipeline: Any) -> Any:
    """Drop the fitted vectorizers' bookkeeping that differs from process to process.

    `stop_words_` (a set, ordered by the per-process string hash) is introspection only, and
    `_stop_words_id` caches an object's id(); without them the same training gives the same bytes,
    hence the same SHA-256, on every run.
    """
    for step in pipeline.get_params(deep=True).values():
        if hasattr(step, "stop_words_"):
            step.stop_words_ = None
        if hasattr(step, "_stop_words_id"):
            del step._stop_words_id
    return pipeline


def _to_blob(model: TrainedModel) -> dict[str, Any]:
    """The model's own fields (pipeline, calibration, threshold ...), not its cached helpers."""
    fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)}
    fields["pipeline"] = _reproducible(model.pipeline)
    return {"version": model.version, "model": fields}


class ModelRegistry:
    """data_dir/models: one directory per version and a `current` pointer (version + digest)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, version: str) -> Path:
        return self.root / check_version(version)

    def save(self, model: TrainedModel, manifest: Manifest) -> Manifest:
        """Write the artifact (atomically: a reader never sees half of one); returns the manifest with its digest."""
        if manifest.version != model.version:
            raise ArtifactError(f"manifest {manifest.version} does not describe model {model.version}")
        target = self.path(model.version)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{model.version}.", suffix=".tmp"))
        try:
            joblib.dump(_to_blob(model), staging / MODEL_FILE)
            manifest.model_sha256 = file_digest(staging / MODEL_FILE)
            (staging / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
            if target.exists():
                # Same version = same training rows and parameters; the newer write replaces the older.
                aside = target.with_name(f".{target.name}.old-{os.getpid()}")
                os.replace(target, aside)
                shutil.rmtree(aside, ignore_errors=True)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("model %s saved to %s (sha256 %s)", model.version, target, manifest.model_sha256)
        return manifest

    def manifest(self, version: str) -> Manifest:
        path = self.path(version) / MANIFEST_FILE
        if not path.is_file():
            raise ArtifactError(f"no model {version} in {self.root} (see: kcnguard model list)")
        return Manifest.from_json(path.read_text(encoding="utf-8"), str(path))

    def load(self, version: str) -> tuple[Manifest, TrainedModel]:
        if not (self.path(version) / MANIFEST_FILE).is_file():
            raise ArtifactError(f"no model {version} in {self.root} (see: kcnguard model list)")
        pointer = self._pointer()
        expected = pointer.get("sha256") if pointer.get("version") == version else None
        return read_artifact(self.path(version), expected)

    def versions(self) -> list[Manifest]:
        """Every readable artifact, oldest first; unreadable directories are logged, not hidden silently."""
        out = []
        if not self.root.is_dir():
            return out
        for entry in sorted(self.root.iterdir()):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            try:
                out.append(self.manifest(entry.name))
            except ArtifactError as exc:
                log.warning("skipping %s: %s", entry, exc)
        return sorted(out, key=lambda m: (m.created_at, m.version))

    def current_version(self) -> str | None:
        return self._pointer().get("version")

    def pointer_stamp(self) -> tuple[int, int] | None:
        """A cheap fingerprint of the pointer file (mtime, size): the worker checks it every batch."""
        try:
            stat = (self.root / CURRENT_FILE).stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def load_current(self) -> tuple[Manifest, TrainedModel] | None:
        version = self.current_version()
        return self.load(version) if version else None

    def set_current(self, version: str, by: str, reason: str) -> None:
        """Point `current` at a version after verifying it loads; the pointer records its digest."""
        if not (self.path(version) / MANIFEST_FILE).is_file():
            raise ArtifactError(f"no model {version} in {self.root} (see: kcnguard model list)")
        manifest, _ = read_artifact(self.path(version))
        pointer = {"version": version, "sha256": manifest.model_sha256, "set_at": utcnow().isoformat(), "by": by}
        pointer["reason"] = reason
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".current.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(pointer, handle, ensure_ascii=False)
        os.replace(tmp, self.root / CURRENT_FILE)
        log.info("model %s is now current (by %s: %s)", version, by, reason)

    def _pointer(self) -> dict[str, Any]:
        path = self.root / CURRENT_FILE
        if not path.is_file():
            return {}
        try:
            pointer = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ArtifactError(
                f"{path} is not a model pointer ({exc}); set one with: kcnguard model use VERSION"
            ) from None
        if not isinstance(pointer, dict) or not isinstance(pointer.get("version"), str):
            raise ArtifactError(f"{path} names no version; set one with: kcnguard model use VERSION")
        return pointer
