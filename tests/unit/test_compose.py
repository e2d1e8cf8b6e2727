"""docker-compose.yml is valid, and every service it runs is a command this project has."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from kcnguard.settings import Settings
from launcher.cli import SERVICES, build_parser
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"


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
    result = _config({"KCNGUARD_ADMIN_KEY": "kcn_test_key", "KCNGUARD_SECRET_KEY": "a-test-secret-key"})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_infrastructure_is_kraft_kafka_and_single_node_elasticsearch_8(compose: dict) -> None:
    kafka = compose["services"]["kafka"]
    assert "broker,controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert "ZOOKEEPER" not in " ".join(kafka["environment"]).upper()
    es = compose["services"]["elasticsearch"]
    assert es["image"].split(":")[-1].startswith("8.")
    assert es["environment"]["discovery.type"] == "single-node"


def test_one_container_per_service_built_from_deploy(compose: dict) -> None:
    ours = {name: svc for name, svc in compose["services"].items() if "build" in svc}
    commands = {svc["command"][1] for svc in ours.values() if svc["command"][0] == "kcnguard"}
    assert set(SERVICES) <= commands
    for name, svc in ours.items():
        dockerfile = ROOT / svc["build"]["dockerfile"]
        assert dockerfile.is_file() and dockerfile.parent.name == "deploy", name


def test_every_command_exists_in_the_kcnguard_cli(compose: dict) -> None:
    parser = build_parser()
    for name, svc in compose["services"].items():
        if "build" not in svc:
            continue
        assert svc["command"][0] == "kcnguard", name
        args = parser.parse_args(svc["command"][1:])  # SystemExit on an unknown subcommand
        assert callable(args.func), name


def test_every_setting_in_compose_is_a_real_setting(compose: dict) -> None:
    known = {f"KCNGUARD_{name.upper()}" for name in Settings.model_fields}
    for name, svc in compose["services"].items():
        for var in svc.get("environment") or {}:
            if var.startswith("KCNGUARD_"):
                assert var in known, f"{name} sets unknown {var}"


def test_services_reach_kafka_and_elasticsearch_not_the_embedded_defaults(compose: dict) -> None:
    for name, svc in compose["services"].items():
        if "build" not in svc:
            continue
        env = svc["environment"]
        assert env["KCNGUARD_BUS_URL"].startswith("kafka://"), name
        assert env["KCNGUARD_STORE_URL"].startswith("elasticsearch://"), name


def test_missing_admin_key_is_refused_with_a_clear_message() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KCNGUARD_ADMIN_KEY"} | {"KCNGUARD_SECRET_KEY": "a-test-key"}
    binary = shutil.which("docker-compose") or "docker-compose"
    result = subprocess.run([binary, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode != 0
    assert "KCNGUARD_ADMIN_KEY" in result.stderr


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
