"""The cross-account cases of the wallet, user, location and search services, run on their own.

tests/services/builtin/test_isolation.py runs every module of isolation_cases; this
runner applies the same checks to these four services' cases alone.
"""

from __future__ import annotations

import json

import pytest

from services import registry
from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, location, search, user, wallet

CASES: list[IsolationCase] = [*wallet.CASES, *user.CASES, *location.CASES, *search.CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.service}.{case.endpoint}")
def test_other_account_finds_and_changes_nothing(owner: Persona, outsider: Persona, case: IsolationCase) -> None:
    body = case.seed(owner)
    before = case.snapshot(owner)

    response = outsider.call(case.service, case.endpoint, body=body)

    assert response.status_code == 404 or 200 <= response.status_code < 300, response.content
    if response.status_code == 404:
        assert response.json()["id"].startswith(f"{case.service}."), response.content
    sent = json.dumps(body, ensure_ascii=False)
    received = response.content.decode() + json.dumps(response.json(), ensure_ascii=False)
    assert not [marker for marker in case.markers if marker not in sent and marker in received], response.content
    assert case.snapshot(owner) == before


@pytest.mark.parametrize("slug", ["wallet", "user", "location", "search"])
def test_every_endpoint_has_a_case(slug: str) -> None:
    service = registry.get(slug)
    covered = {case.endpoint for case in CASES if case.service == slug}

    assert service is not None
    assert [endpoint.name for endpoint in service.endpoints if endpoint.name not in covered] == []
