"""A live platform for the client tests: the test server, a funded key and a key with no balance.

On PostgreSQL the platform is granian serving the ASGI app, as in production,
so calls and streams (NDJSON and WebSocket) reach it. On SQLite a server
process cannot share the in-memory test database, so the platform is Django's
live server, which serves calls only, and the stream tests skip.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings

from tests.conftest import Persona
from tests.processes import ROOT, free_port, running_asgi_server

CLIENTS = ROOT / "clients"
PYTHON_CLIENT = CLIENTS / "python" / "src"

# The tests import the client from the repository, not a copy installed in the environment.
if str(PYTHON_CLIENT) not in sys.path:
    sys.path.insert(0, str(PYTHON_CLIENT))
for name in [module for module in sys.modules if module == "m3o" or module.startswith("m3o.")]:
    del sys.modules[name]


@dataclass
class Platform:
    address: str
    token: str  # a key with credit
    broke_token: str  # a key whose account has no balance
    closed_address: str  # where nothing listens
    streams: bool  # whether the server serves stream endpoints

    def env(self) -> dict[str, str]:
        env = {
            "M3O_TEST_ADDRESS": self.address,
            "M3O_TEST_TOKEN": self.token,
            "M3O_TEST_BROKE_TOKEN": self.broke_token,
            "M3O_TEST_CLOSED_ADDRESS": self.closed_address,
        }
        if self.streams:
            env["M3O_TEST_STREAMS"] = "1"
        return env


def serves_streams() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@pytest.fixture(scope="module")
def platform_address(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server per test module: granian on PostgreSQL, else Django's live server."""
    if not serves_streams():
        yield request.getfixturevalue("live_server").url
        return
    request.getfixturevalue("django_db_setup")
    with running_asgi_server(tmp_path_factory.mktemp("platform")) as (url, _):
        yield url


@pytest.fixture
def platform(platform_address: str, owner: Persona, outsider: Persona) -> Platform:
    owner.set_balance(10_000_000)
    outsider.set_balance(0)
    return Platform(
        address=platform_address,
        token=owner.secret,
        broke_token=outsider.secret,
        closed_address=f"http://127.0.0.1:{free_port()}",
        streams=serves_streams(),
    )
