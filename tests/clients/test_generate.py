"""generate_clients: the committed clients match the OpenAPI document, and the output is deterministic."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.clientgen import MARKER, generate
from catalog.models import Service
from catalog.openapi import platform_document
from catalog.selectors import services_listed
from tests.clients.conftest import CLIENTS

pytestmark = pytest.mark.django_db


def _document() -> dict:
    services = services_listed().filter(backend=Service.Backend.BUILTIN).order_by("slug")
    return platform_document(services, server_url="http://127.0.0.1:8000")


def test_committed_clients_are_up_to_date(tmp_path: Path) -> None:
    call_command("generate_clients", "--output", str(tmp_path))

    generated = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file())
    stale = [path for path in generated if (CLIENTS / path).read_text(encoding="utf-8") != (tmp_path / path).read_text(encoding="utf-8")]
    assert generated, "nothing was generated"
    assert stale == [], "run python manage.py generate_clients and commit the result"
    call_command("generate_clients", "--check")  # also no generated file is left over from a removed service


def test_check_finds_edited_and_leftover_files(tmp_path: Path) -> None:
    call_command("generate_clients", "--output", str(tmp_path))
    (tmp_path / "js/src/services/helloworld.js").write_text("// edited\n", encoding="utf-8")
    (tmp_path / "go/removed").mkdir()
    (tmp_path / "go/removed/removed.go").write_text(f"// {MARKER}\n\npackage removed\n", encoding="utf-8")

    with pytest.raises(CommandError, match="out of date") as raised:
        call_command("generate_clients", "--output", str(tmp_path), "--check")
    assert "js/src/services/helloworld.js" in str(raised.value)
    assert "go/removed/removed.go" in str(raised.value)

    call_command("generate_clients", "--output", str(tmp_path))
    assert not (tmp_path / "go/removed/removed.go").exists()
    call_command("generate_clients", "--output", str(tmp_path), "--check")


def test_output_does_not_depend_on_key_order() -> None:
    # PostgreSQL's jsonb reorders object keys; the generated code must not change with it.
    document = _document()
    reversed_document = copy.deepcopy(document)
    for item in reversed_document["paths"].values():
        for part in (item["post"]["requestBody"], item["post"]["responses"]["200"]):
            schema = part["content"]["application/json"]["schema"]
            if isinstance(schema.get("properties"), dict):
                schema["properties"] = dict(reversed(list(schema["properties"].items())))
    reversed_document["paths"] = dict(reversed(list(reversed_document["paths"].items())))

    assert generate(reversed_document) == generate(document)


def test_generate_adds_new_service_everywhere() -> None:
    document = _document()
    document["paths"]["/v1/geo-coder/LookUp"] = copy.deepcopy(document["paths"]["/v1/helloworld/Call"])
    document["paths"]["/v1/geo-coder/LookUp"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "properties": {
            "from": {"type": "string"},
            "options": {"type": "object", "properties": {"limit": {"type": "integer", "default": 5}}},
        },
        "required": ["from"],
    }

    files = generate(document)

    python = files["python/src/m3o/services/geo_coder.py"]
    assert "def look_up(self, *, from_: str, options: LookUpRequestOptions | None = None)" in python
    assert "'from': from_" in python
    assert "lookUp(request: LookUpRequest): Promise<LookUpResponse>;" in files["js/src/services/geo-coder.d.ts"]
    go = files["go/geocoder/geocoder.go"]
    assert "func (s *Service) LookUp(ctx context.Context, req *LookUpRequest) (*LookUpResponse, error)" in go
    assert "Limit *int64 `json:\"limit,omitempty\"`" in go
    assert "GeoCoder *geocoder.Service" in files["go/m3o.go"]
    assert "self.geo_coder = GeoCoderService(self.transport)" in files["python/src/m3o/_client.py"]
    assert "this.geoCoder = new GeoCoderService(this.transport);" in files["js/src/index.js"]


def test_generated_python_compiles() -> None:
    for path, text in generate(_document()).items():
        if path.endswith(".py"):
            compile(text, path, "exec")


def test_without_services_the_command_explains(tmp_path: Path) -> None:
    Service.objects.all().delete()

    with pytest.raises(CommandError, match="run migrate"):
        call_command("generate_clients", "--output", str(tmp_path))


def test_unreadable_document_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "openapi.json"
    bad.write_text("{not json", encoding="utf-8")

    with pytest.raises(CommandError, match="Cannot read the OpenAPI document"):
        call_command("generate_clients", "--openapi", str(bad), "--output", str(tmp_path / "out"))


def test_generated_stream_methods_build(tmp_path: Path) -> None:
    # A stream endpoint added to a service reaches every client, and every client builds with it.
    document = _document()
    stream = copy.deepcopy(document["paths"]["/v1/helloworld/Call"])
    stream["post"]["x-m3o-streaming"] = True
    document["paths"]["/v1/helloworld/Repeat"] = stream
    (tmp_path / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    clients = tmp_path / "clients"
    shutil.copytree(CLIENTS, clients)

    call_command("generate_clients", "--openapi", str(tmp_path / "openapi.json"), "--output", str(clients))

    python = subprocess.run(
        [sys.executable, "-c", "import inspect, m3o; print(inspect.signature(m3o.Client('k').helloworld.repeat))"],
        env={"PYTHONPATH": str(clients / "python/src"), "PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True, timeout=60,
    )
    assert python.returncode == 0, python.stderr
    assert python.stdout.strip() == "(*, name: 'str') -> 'Iterator[RepeatResponse]'"
    if shutil.which("node"):
        node = subprocess.run(
            ["node", "-e", "import('./src/index.js').then((m) => console.log(typeof new m.M3O('k').helloworld.repeat))"],
            cwd=clients / "js", capture_output=True, text=True, timeout=60,
        )
        assert node.stdout.strip() == "function", node.stderr
    if shutil.which("go"):
        go = subprocess.run(
            ["go", "vet", "./..."], cwd=clients / "go", capture_output=True, text=True, timeout=300,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "GOCACHE": str(tmp_path / "gocache"),
                 "GOFLAGS": "-mod=mod", "GOPROXY": "off"},
        )
        assert go.returncode == 0, go.stderr
