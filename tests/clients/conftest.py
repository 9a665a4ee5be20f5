"""A live platform for the client tests: the test server, a funded key and a key with no balance."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Persona
from tests.processes import ROOT, free_port

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

    def env(self) -> dict[str, str]:
        return {
            "M3O_TEST_ADDRESS": self.address,
            "M3O_TEST_TOKEN": self.token,
            "M3O_TEST_BROKE_TOKEN": self.broke_token,
            "M3O_TEST_CLOSED_ADDRESS": self.closed_address,
        }


@pytest.fixture
def platform(live_server: Any, owner: Persona, outsider: Persona) -> Platform:
    owner.set_balance(10_000_000)
    outsider.set_balance(0)
    return Platform(
        address=live_server.url,
        token=owner.secret,
        broke_token=outsider.secret,
        closed_address=f"http://127.0.0.1:{free_port()}",
    )
