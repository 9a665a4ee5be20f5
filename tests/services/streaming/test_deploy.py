"""The deploy files route every stream endpoint to the streams process."""

from __future__ import annotations

import re

import yaml

from services import registry
from tests.processes import ROOT


def stream_paths() -> list[str]:
    return sorted(
        f"/v1/{service.slug}/{endpoint.name}"
        for service in registry.all_services()
        for endpoint in service.endpoints
        if endpoint.streaming
    )


def test_kubernetes_ingress_sends_every_stream_endpoint_to_the_streams_service() -> None:
    documents = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/streams.yaml").read_text()))
    ingress = next(doc for doc in documents if doc["kind"] == "Ingress")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    pattern = re.compile(paths[0]["path"])

    assert paths[0]["backend"]["service"]["name"] == "m3o-streams"
    assert stream_paths()
    for path in stream_paths():
        assert pattern.fullmatch(path) and pattern.fullmatch(path.lower()), path
    assert not pattern.fullmatch("/v1/helloworld/Call")


def test_compose_runs_the_asgi_streams_process() -> None:
    compose = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())

    assert "m3o_web.asgi:application" in compose["services"]["streams"]["command"]
