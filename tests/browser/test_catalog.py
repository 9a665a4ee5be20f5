"""A visitor explores the catalog in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.models import Category, Service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_filter_open_service_and_download_openapi(page, tmp_path: Path) -> None:
    maps = Category.objects.create(slug="maps", name="Maps")
    Service.objects.create(slug="geofence", name="Geofencing", tagline="Alerts when a place is entered.",
                           status=Service.Status.PUBLISHED, category=maps)

    page.goto("/explore/")
    page.fill("input[name=q]", "hello")
    page.wait_for_url("**/explore/?q=hello*")
    assert page.locator("#service-list .card").count() == 1
    assert "Hello World" in page.locator("#service-list").inner_text()

    page.fill("input[name=q]", "")
    page.select_option("select[name=category]", "maps")
    page.wait_for_url("**category=maps*")
    page.locator("#result-count", has_text="in Maps").wait_for()
    assert page.locator("#service-list").inner_text().count("Geofencing") == 1
    assert "Hello World" not in page.locator("#service-list").inner_text()

    page.select_option("select[name=category]", "developer-tools")
    page.get_by_role("link", name="Hello World").click()
    page.wait_for_url("**/explore/helloworld/")
    cells = page.locator("#pricing tbody tr").first.locator("td").all_inner_texts()
    assert cells[0] == "Call"
    assert cells[1].startswith("$0.001000")
    assert cells[2] == "0"

    with page.expect_download() as download_info:
        page.locator("#openapi-download").click()
    target = tmp_path / "helloworld.openapi.json"
    download_info.value.save_as(target)
    document = json.loads(target.read_text())
    assert document["openapi"] == "3.1.0"
    assert "/v1/helloworld/Call" in document["paths"]
