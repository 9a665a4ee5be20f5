"""The m3o command line tool against a live test server: commands come from the catalog API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import PYTHON_CLIENT, Platform

pytestmark = pytest.mark.django_db(transaction=True)

EXIT_USAGE, EXIT_API, EXIT_NETWORK = 2, 3, 4


def m3o(platform: Platform, *args: str, token: str | None = None, address: str | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PYTHON_CLIENT),
        "M3O_API_ADDRESS": address or platform.address,
    }
    if token is not None:
        env["M3O_API_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "m3o", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_service_command_with_typed_flags(platform: Platform) -> None:
    result = m3o(platform, "helloworld", "call", "--name", "Alice", token=platform.token)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "Hello Alice"}


def test_call_with_a_json_body(platform: Platform) -> None:
    result = m3o(platform, "call", "helloworld", "Call", '{"name": "Bob"}', token=platform.token)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "Hello Bob"}


def test_call_reads_the_body_from_stdin(platform: Platform) -> None:
    result = m3o(platform, "call", "helloworld", "Call", "-", token=platform.token, stdin='{"name": "Eve"}')

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "Hello Eve"}


def test_db_round_trip_with_a_json_object_flag(platform: Platform) -> None:
    created = m3o(platform, "db", "create", "--table", "cli_people", "--record", '{"name": "Ada", "born": 1815}',
                  token=platform.token)
    assert created.returncode == 0, created.stderr
    record_id = json.loads(created.stdout)["id"]

    read = m3o(platform, "-o", "table", "db", "read", "--table", "cli_people", "--id", record_id, token=platform.token)

    assert read.returncode == 0, read.stderr
    header, row = read.stdout.splitlines()
    assert set(header.split()) == {"ID", "NAME", "BORN"}
    assert "Ada" in row
    assert "1815" in row
    assert record_id in row


def test_camel_case_fields_take_kebab_case_flags(platform: Platform) -> None:
    for name in ("b", "a"):
        assert m3o(platform, "db", "create", "--table", "cli_sorted", "--record", json.dumps({"name": name}),
                   token=platform.token).returncode == 0

    result = m3o(platform, "db", "read", "--table", "cli_sorted", "--order-by", "name", "--limit", "5",
                 token=platform.token)

    assert result.returncode == 0, result.stderr
    assert [record["name"] for record in json.loads(result.stdout)["records"]] == ["a", "b"]


def test_api_error_400_exits_with_the_envelope(platform: Platform) -> None:
    result = m3o(platform, "-o", "json", "call", "helloworld", "Call", "{}", token=platform.token)

    assert result.returncode == EXIT_API
    envelope = json.loads(result.stderr)
    assert envelope["code"] == 400
    assert "name" in envelope["fields"]


def test_api_error_402_exits_as_api_error(platform: Platform) -> None:
    result = m3o(platform, "helloworld", "call", "--name", "Alice", token=platform.broke_token)

    assert result.returncode == EXIT_API
    assert "v1.insufficient_credit" in result.stderr
    assert "HTTP 402" in result.stderr


def test_network_error_has_its_own_exit_code(platform: Platform) -> None:
    result = m3o(platform, "call", "helloworld", "Call", '{"name": "A"}', token="m3o_x", address=platform.closed_address)

    assert result.returncode == EXIT_NETWORK
    assert "network error" in result.stderr


USAGE_ERRORS = [
    ("helloworld", "call"),  # the required --name is missing
    ("helloworld", "call", "--name"),
    ("db", "read", "--table", "t", "--limit", "many"),
    ("db", "create", "--table", "t", "--record", "[1]"),
    ("db", "read", "--table", "t", "--order", "sideways"),
    ("call", "helloworld", "Call", "{not json"),
    ("call", "helloworld", "Call", "[1, 2]"),
    ("nosuchservice", "call"),
    ("helloworld", "nosuchendpoint"),
    ("explore",),
    ("-o", "yaml", "explore", "list"),
]


def test_usage_errors_exit_2(platform: Platform) -> None:
    # One test for all cases: each live-server test costs a database flush.
    for args in USAGE_ERRORS:
        result = m3o(platform, *args, token=platform.token)

        assert result.returncode == EXIT_USAGE, (args, result.stdout + result.stderr)
        assert "error" in result.stderr, args

    missing_token = m3o(platform, "helloworld", "call", "--name", "Alice")
    assert missing_token.returncode == EXIT_USAGE
    assert "M3O_API_TOKEN" in missing_token.stderr


def test_help_comes_from_the_catalog(platform: Platform) -> None:
    top = m3o(platform, "--help")
    service = m3o(platform, "db", "--help")
    endpoint = m3o(platform, "db", "read", "--help")

    assert top.returncode == service.returncode == endpoint.returncode == 0
    assert "helloworld" in top.stdout
    assert "Say hello" in top.stdout
    assert "list-tables" in service.stdout
    assert "--order-by" in endpoint.stdout
    assert "Maximum number of records to return." in endpoint.stdout
    assert "{asc,desc}" in endpoint.stdout


def test_service_named_like_a_command_gets_a_suffix(platform: Platform) -> None:
    top = m3o(platform, "--help")
    created = m3o(platform, "stream-service", "create-channel", "--name", "general", token=platform.token)
    generic = m3o(platform, "call", "stream", "ListChannels", token=platform.token)

    assert "stream-service" in top.stdout
    assert created.returncode == 0, created.stderr
    assert json.loads(generic.stdout)["channels"][0]["name"] == "general"


def test_explore_list_and_search(platform: Platform) -> None:
    listed = m3o(platform, "explore", "list")
    found = m3o(platform, "-o", "json", "explore", "search", "greeting")

    assert listed.returncode == found.returncode == 0
    assert listed.stdout.splitlines()[0].split()[:3] == ["SERVICE", "CATEGORY", "ENDPOINTS"]
    assert any(line.startswith("helloworld ") for line in listed.stdout.splitlines())
    assert [service["slug"] for service in json.loads(found.stdout)] == ["helloworld"]


def test_explore_without_a_platform_is_a_network_error(platform: Platform) -> None:
    result = m3o(platform, "explore", "list", address=platform.closed_address)

    assert result.returncode == EXIT_NETWORK


CONSOLE_SCRIPT = Path(sys.executable).parent / "m3o"


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the m3o command is not installed: run scripts/test, which installs clients/python")
def test_console_script_is_installed(platform: Platform) -> None:
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "explore", "search", "greeting"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "M3O_API_ADDRESS": platform.address},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "helloworld" in result.stdout
