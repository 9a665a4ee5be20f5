"""The dashboard, the usage page, its CSV export and usage per key."""

from __future__ import annotations

import csv
import io

import pytest

from billing.services.usage import usage_rollup
from tests.conftest import Persona

PRICE = 1_000


def test_pages_render_with_and_without_calls(owner: Persona) -> None:
    for url in ("/dashboard/", "/billing/usage/", "/billing/usage/keys/", "/billing/usage/export.csv"):
        assert owner.client.get(url).status_code == 200, url
    owner.call()
    owner.call(body={})
    for url in ("/dashboard/", "/billing/usage/", "/billing/usage/keys/", "/billing/usage/export.csv"):
        response = owner.client.get(url)
        assert response.status_code == 200, url
    page = owner.client.get("/billing/usage/").content.decode()
    assert 'id="total-calls">2<' in page
