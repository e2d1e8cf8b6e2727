"""docker-compose.yml is valid, runs only commands this project has, and is secure by construction.

tests/e2e/test_compose_run.py goes further: it runs the services' commands and healthchecks.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from kcnguard.settings import Settings
from kcnguard.tlscerts import main as tlscerts_main
from launcher.cli import SERVICES, build_parser
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
SETTINGS = {f"KCNGUARD_{name.upper()}" for name in Settings.model_fields}
SECRETS = {f"KCNGUARD_{name.upper()}" for name in Settings.secret_names()}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: `apt-get install docker-compose` (.ci/run does it)")
    return subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=60,
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    result = _config({})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def _ours(compose: dict) -> dict[str, dict]:
    """KCN Guard's long-running services and one-shot jobs: those built from deploy/."""
    return {name: svc for name, svc in compose["services"].items() if "build" in svc}


def _secrets_of(svc: dict) -> set[str]:
    # `config` writes the short form `[name]` as `{source: name}`.
    return {s if isinstance(s, str) else s["source"] for s in svc.get("secrets") or []}


def test_infrastructure_is_kraft_kafka_and_single_node_elasticsearch_8(compose: dict) -> None:
    kafka = compose["services"]["kafka"]
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert "ZOOKEEPER" not in " ".join(kafka["environment"]).upper()
    es = compose["services"]["elasticsearch"]
    assert es["image"].split(":")[-1].startswith("8.")
    assert es["environment"]["discovery.type"] == "single-node"


def test_kafka_writes_its_log_into_its_volume(compose: dict) -> None:
    kafka = compose["services"]["kafka"]
    mounts = {v.split(":")[1] for v in kafka["volumes"] if v.startswith("kafka-data:")}
    assert kafka["environment"]["KAFKA_LOG_DIRS"] in mounts


def test_the_elasticsearch_healthcheck_keeps_its_url_whole(compose: dict) -> None:
    # An unquoted `&` backgrounds curl and the check passes whatever the cluster's state.
    kind, command = compose["services"]["elasticsearch"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    words = shlex.split(command.replace("$$", "$"))
    assert "&" not in words
    assert any("wait_for_status=yellow&timeout=" in word for word in words)
    assert "-f" in words[1] or "--fail" in words


def test_kafka_and_elasticsearch_run_with_tls_and_authentication(compose: dict) -> None:
    kafka = compose["services"]["kafka"]["environment"]
    assert "SASL_SSL://kafka:9092" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert "PLAINTEXT" not in kafka["KAFKA_ADVERTISED_LISTENERS"].replace("INTERNAL://127.0.0.1", "")
    es = compose["services"]["elasticsearch"]["environment"]
    assert es["xpack.security.enabled"] == "true" and es["xpack.security.http.ssl.enabled"] == "true"
    for name, svc in _ours(compose).items():
        if name in ("certs", "demo-marketplace"):  # neither reads the bus or the store
            continue
        env = svc["environment"]
        assert env["KCNGUARD_BUS_URL"].startswith("kafka://"), name
        assert env["KCNGUARD_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["KCNGUARD_KAFKA_SSL_CAFILE"] == "/certs/ca.crt", name
        assert env["KCNGUARD_STORE_URL"].startswith("https://"), name
        assert env["KCNGUARD_ELASTICSEARCH_CA_FILE"] == "/certs/ca.crt", name


def test_the_certs_service_runs_first_and_its_command_exists(compose: dict) -> None:
    certs = compose["services"]["certs"]
    assert certs["command"][:3] == ["python", "-m", "kcnguard.tlscerts"]
    with pytest.raises(SystemExit) as shown:
        tlscerts_main(["--help"])
    assert shown.value.code == 0
    for server in ("kafka", "elasticsearch"):
        assert compose["services"][server]["depends_on"]["certs"]["condition"] == "service_completed_successfully"


def test_one_container_per_service_built_from_deploy(compose: dict) -> None:
    ours = _ours(compose)
    commands = {svc["command"][1] for svc in ours.values() if svc["command"][0] == "kcnguard"}
    assert set(SERVICES) <= commands
    for name, svc in ours.items():
        dockerfile = ROOT / svc["build"]["dockerfile"]
        assert dockerfile.is_file() and dockerfile.parent.name == "deploy", name


def test_every_command_exists_in_the_kcnguard_cli(compose: dict) -> None:
    parser = build_parser()
    for name, svc in _ours(compose).items():
        if name == "certs":
            continue
        assert svc["command"][0] == "kcnguard", name
        args = parser.parse_args(svc["command"][1:])  # SystemExit on an unknown subcommand
        assert callable(args.func), name


def test_every_setting_in_compose_is_a_real_setting(compose: dict) -> None:
    known = SETTINGS | {f"{name}_FILE" for name in SETTINGS}
    for name, svc in compose["services"].items():
        for var in svc.get("environment") or {}:
            if var.startswith("KCNGUARD_"):
                assert var in known, f"{name} sets unknown {var}"


def test_secrets_are_files_and_each_service_gets_only_those_it_reads(compose: dict) -> None:
    declared = set(compose["secrets"])
    for name, svc in compose["services"].items():
        env = svc.get("environment") or {}
        assert not SECRETS & set(env), f"{name} puts a secret in its environment: {SECRETS & set(env)}"
        granted = _secrets_of(svc)
        assert granted <= declared, name
        read = set(re.findall(r"/run/secrets/([a-z0-9_]+)", yaml.safe_dump(svc)))
        assert read <= granted, f"{name} reads secrets it is not given: {read - granted}"
    assert "admin_key" in _secrets_of(compose["services"]["api"])
    others = [n for n, s in compose["services"].items() if n != "api" and "admin_key" in _secrets_of(s)]
    assert not others, f"only the API needs the admin key, not {others}"


def test_the_crawler_and_the_api_share_evidence_in_the_s3_service(compose: dict) -> None:
    services = compose["services"]
    for name in ("crawler", "api"):
        env = services[name]["environment"]
        assert env["KCNGUARD_EVIDENCE_URL"].startswith("s3://"), name
        host = env["KCNGUARD_EVIDENCE_S3_ENDPOINT"].split("//")[1].split(":")[0]
        assert host in services, f"{name}'s evidence endpoint {host} is no compose service"
        assert services[name]["depends_on"]["evidence-bucket"]["condition"] == "service_completed_successfully"


def test_every_long_running_kcnguard_service_has_a_healthcheck(compose: dict) -> None:
    for name, svc in _ours(compose).items():
        if svc.get("restart") == "no":
            continue
        assert svc.get("healthcheck", {}).get("test"), name
    api_check = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    assert "/readyz" in api_check and "python" in api_check


def test_the_image_copies_everything_the_package_build_reads() -> None:
    import tomllib

    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = {
        word.rstrip("/") for line in dockerfile.splitlines() if line.startswith("COPY") for word in line.split()[1:-1]
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"], *project["project"].get("license-files", [])}
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert needed <= copied, needed - copied
    assert packages <= copied, packages - copied
    assert "'.[s3]'" in dockerfile, "the image needs boto3 for the compose file's S3 evidence"
