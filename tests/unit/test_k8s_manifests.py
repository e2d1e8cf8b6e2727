"""deploy/k8s is valid Kubernetes, offline, and agrees with the code it deploys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kcnguard.settings import Settings
from kcnguard.topics import ALL, physical
from launcher.cli import build_parser
from tests.conftest import ROOT

K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes release the manifests promise to fit (autoscaling/v2, policy/v1, ttl on Jobs).
VERSIONS = ("1.27.0", "1.33.0")


def _kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _resources() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for name in _kustomization()["resources"]:
        path = K8S / name
        out += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("containers", [])


def test_every_yaml_file_is_listed_in_the_kustomization() -> None:
    listed = set(_kustomization()["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert present == listed


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    import kubernetes_validate

    for path, doc in _resources():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name} {doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_an_invalid_resource_is_caught() -> None:
    """The validation above can fail: a misspelt field under strict schemas is refused."""
    import kubernetes_validate

    deployment = next(doc for _, doc in _resources() if doc["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_every_service_runs_a_real_command_with_probes_and_limits() -> None:
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    workloads = [doc for _, doc in _resources() if doc["kind"] in ("Deployment", "Job")]
    assert {c["command"][1] for doc in workloads for c in _containers(doc)} == {
        "api",
        "crawler",
        "classifier",
        "scheduler",
        "webhooks",
        "setup",
    }
    for doc in workloads:
        for container in _containers(doc):
            assert container["command"][0] == "kcnguard" and container["command"][1] in subcommands
            assert container["resources"]["limits"]["memory"], doc["metadata"]["name"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            if doc["kind"] == "Deployment":
                assert "livenessProbe" in container, doc["metadata"]["name"]


def test_config_names_only_real_settings_and_no_secret() -> None:
    config = next(doc for _, doc in _resources() if doc["kind"] == "ConfigMap")
    settings = {f"KCNGUARD_{n.upper()}" for n in Settings.model_fields}
    known = settings | {f"{name}_FILE" for name in settings}
    assert set(config["data"]) <= known, set(config["data"]) - known
    # A secret appears only as the path of its file, mounted from a Secret.
    sensitive = [k for k in config["data"] if "KEY" in k or "SECRET" in k or "PASSWORD" in k]
    assert all(k.endswith("_FILE") and config["data"][k].startswith("/run/secrets/") for k in sensitive)


def test_pods_get_secrets_as_files_and_only_the_api_gets_the_admin_key() -> None:
    for path, doc in _resources():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        secrets = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for container in pod["containers"]:
            assert not [e for e in container.get("envFrom", []) if "secretRef" in e], path
            assert not [e for e in container.get("env", []) if "valueFrom" in e], path
        assert "kcnguard-secrets" in secrets, path
        assert ("kcnguard-admin" in secrets) == (doc["metadata"]["name"] == "kcnguard-api"), path
        assert pod["securityContext"].get("fsGroup"), f"{path}: secret files unreadable without an fsGroup"


def test_autoscalers_follow_real_consumer_groups_and_topics() -> None:
    topics = {physical("kcnguard", t) for t in ALL}
    hpas = [doc for _, doc in _resources() if doc["kind"] == "HorizontalPodAutoscaler"]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == {"kcnguard-crawler", "kcnguard-classifier"}
    for hpa in hpas:
        labels = hpa["spec"]["metrics"][0]["external"]["metric"]["selector"]["matchLabels"]
        assert labels["topic"] in topics
        assert labels["consumergroup"] == "kcnguard." + hpa["spec"]["scaleTargetRef"]["name"].removeprefix("kcnguard-")


def test_the_api_is_served_over_tls_and_workers_check_their_heartbeat() -> None:
    ingress = next(doc for _, doc in _resources() if doc["kind"] == "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"]
    config = next(doc for _, doc in _resources() if doc["kind"] == "ConfigMap")
    beat = config["data"]["KCNGUARD_HEARTBEAT_FILE"]
    for _, doc in _resources():
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] != "kcnguard-api":
            probe = " ".join(_containers(doc)[0]["livenessProbe"]["exec"]["command"])
            assert beat in probe, doc["metadata"]["name"]
