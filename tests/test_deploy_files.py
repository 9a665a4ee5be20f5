"""The deploy files parse and name only commands, modules, paths and settings that exist."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from tests.processes import ROOT

DEPLOY = ROOT / "deploy"
PYTHON_SOURCES = "\n".join(
    path.read_text() for folder in ("m3o_web", "accounts", "catalog", "billing", "services") for path in (ROOT / folder).rglob("*.py")
)


def documents() -> list[dict]:
    loaded = []
    for path in [DEPLOY / "compose.yaml", *sorted((DEPLOY / "kubernetes").glob("*.yaml"))]:
        loaded.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return loaded


def app_commands() -> list[list[str]]:
    """Every command line that runs the M3O image."""
    commands = []
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for service in compose["services"].values():
        if service.get("image", "").startswith("m3o") and "command" in service:
            commands.append(service["command"])
    for doc in documents():
        spec = doc.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            commands.append(container["command"])
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    commands.append(yaml.safe_load(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)))
    return commands


def expand(command: list[str]) -> list[list[str]]:
    """Split `sh -c "a && b"` into its commands."""
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def test_every_document_parses_with_a_kind_or_services() -> None:
    for doc in documents():
        assert "kind" in doc or "services" in doc


@pytest.mark.parametrize("command", [part for command in app_commands() for part in expand(command)], ids=" ".join)
def test_commands_exist(command: list[str]) -> None:
    program = command[0]
    if program == "python":
        assert command[1] == "manage.py"
        assert command[2] in get_commands(), command
    elif program == "granian":
        module, attribute = command[-1].split(":")
        assert hasattr(importlib.import_module(module), attribute)
    elif program == "celery":
        assert command[1:3] == ["-A", "m3o_web"]
        assert command[3] in {"worker", "beat", "inspect"}
    else:
        pytest.fail(f"unexpected program {program}")


def test_probe_paths_resolve() -> None:
    paths = []
    for doc in documents():
        for container in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for probe in ("livenessProbe", "readinessProbe"):
                if "httpGet" in container.get(probe, {}):
                    paths.append(container[probe]["httpGet"]["path"])
    assert set(paths) == {"/healthz", "/readyz"}
    for path in paths:
        resolve(path)


def test_deploy_settings_are_read_by_code() -> None:
    names = set()
    for doc in documents():
        if doc.get("kind") == "ConfigMap":
            names |= set(doc["data"])
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            names.add(line.split("=", 1)[0])
    names.discard("POSTGRES_PASSWORD")  # read by the postgres image, not by M3O
    for name in sorted(names):
        assert f'"{name}"' in PYTHON_SOURCES, f"{name} is set in deploy/ but never read"


def test_exactly_one_beat() -> None:
    beats = [doc for doc in documents() if doc.get("metadata", {}).get("name") == "m3o-beat"]
    assert len(beats) == 1
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"]["type"] == "Recreate"


def test_web_and_workers_scale_and_request_resources() -> None:
    scaled = {doc["spec"]["scaleTargetRef"]["name"] for doc in documents() if doc.get("kind") == "HorizontalPodAutoscaler"}
    assert scaled == {"m3o-web", "m3o-worker"}
    for doc in documents():
        if doc.get("kind") == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert container["resources"]["requests"]
