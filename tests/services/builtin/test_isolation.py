"""One account's stored data is out of reach of every other account, in every data service.

Each case in the isolation_cases package stores data as the owner, then the
outsider calls one endpoint with the owner's ids, table names, keys, paths and
short ids. The outsider finds nothing (404) or gets a success that holds none
of the owner's data, and the owner's data reads back unchanged.
"""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

from services import registry
from tests.conftest import Persona
from tests.services.builtin import isolation_cases
from tests.services.builtin.isolation_cases import IsolationCase


def load_cases() -> list[IsolationCase]:
    cases: list[IsolationCase] = []
    for module_info in sorted(pkgutil.iter_modules(isolation_cases.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{isolation_cases.__name__}.{module_info.name}")
        cases.extend(module.CASES)
    return cases


CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.service}.{case.endpoint}")
def test_other_account_finds_and_changes_nothing(owner: Persona, outsider: Persona, case: IsolationCase) -> None:
    body = case.seed(owner)
    before = case.snapshot(owner)

    response = outsider.call(case.service, case.endpoint, body=body)

    assert response.status_code == 404 or 200 <= response.status_code < 300, response.content
    if response.status_code == 404:
        assert response.json()["id"].startswith(f"{case.service}."), response.content
    # A 404 may repeat what the outsider sent, such as an id; nothing else of the owner's may show.
    sent = json.dumps(body, ensure_ascii=False)
    received = response.content.decode() + json.dumps(response.json(), ensure_ascii=False)
    leaked = [marker for marker in case.markers if marker not in sent and marker in received]
    assert not leaked, response.content
    assert case.snapshot(owner) == before


# These keep short-lived state in the cache, not rows; test_otp.py and test_wordle.py
# check that codes and games are per account.
CACHE_STATE_SERVICES = {"otp", "wordle"}


def test_every_data_service_endpoint_has_a_case() -> None:
    covered = {(case.service, case.endpoint) for case in CASES}
    data_services = [
        service
        for service in registry.all_services()
        if service.purge_account is not None and service.slug not in CACHE_STATE_SERVICES
    ]

    missing = [
        f"{service.slug}.{endpoint.name}"
        for service in data_services
        for endpoint in service.endpoints
        # Streams are not served by the test client; tests/services/streaming covers their isolation.
        if (service.slug, endpoint.name) not in covered and not endpoint.streaming
    ]

    assert data_services
    assert not missing, f"Add isolation cases for {missing} in tests/services/builtin/isolation_cases/."
