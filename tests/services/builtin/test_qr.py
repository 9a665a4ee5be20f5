"""The qr service through the gateway."""

from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
from django.test import override_settings
from PIL import Image

from tests.conftest import Persona


def generate(persona: Persona, **body: object) -> Image.Image:
    response = persona.call("qr", "Generate", body=body)
    assert response.status_code == 200, response.content
    data = base64.b64decode(response.json()["qr"])
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data))


def decode(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


@pytest.mark.parametrize("text", ["https://m3o.com", "héllo wörld ✓", "x"])
def test_png_decodes_back_to_text(owner: Persona, text: str) -> None:
    image = generate(owner, text=text)

    assert image.size == (300, 300)
    assert decode(image) == text


def test_largest_text_decodes(owner: Persona) -> None:
    text = "a" * 2_331
    image = generate(owner, text=text, size=2_000)

    assert image.size == (2_000, 2_000)
    assert decode(image) == text


def test_smallest_size(owner: Persona) -> None:
    image = generate(owner, text="hi", size=64)

    assert image.size == (64, 64)
    assert decode(image) == "hi"


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({"text": "é" * 1_200}, "qr.text_too_long"),
        ({"text": "a" * 2_000, "size": 100}, "qr.size_too_small"),
        ({"text": "a" * 2_332}, "v1.invalid_request"),
        ({"text": ""}, "v1.invalid_request"),
        ({}, "v1.invalid_request"),
        ({"text": "x", "size": 63}, "v1.invalid_request"),
        ({"text": "x", "size": 2_001}, "v1.invalid_request"),
    ],
)
def test_invalid_generate_is_400_and_free(owner: Persona, body: dict, error_id: str) -> None:
    before = owner.balance
    response = owner.call("qr", "Generate", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == error_id
    assert owner.balance == before


def test_generate_serves_the_png_at_a_platform_url(owner: Persona, client, settings) -> None:
    settings.SITE_URL = "https://m3o.example"
    body = owner.call("qr", "Generate", body={"text": "https://m3o.com"}).json()

    assert body["url"] == f"https://m3o.example/qr/{body['id']}.png"
    served = client.get(f"/qr/{body['id']}.png")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served.content == base64.b64decode(body["qr"])
    assert decode(Image.open(io.BytesIO(served.content))) == "https://m3o.com"
    assert client.get("/qr/no-such-code.png").status_code == 404


def test_codes_lists_the_accounts_codes_newest_first(owner: Persona, outsider: Persona) -> None:
    first = owner.call("qr", "Generate", body={"text": "first"}).json()
    second = owner.call("qr", "Generate", body={"text": "second", "size": 100}).json()
    outsider.call("qr", "Generate", body={"text": "not yours"})

    codes = owner.call("qr", "Codes", body={}).json()["codes"]
    assert [(code["id"], code["text"], code["size"]) for code in codes] == [
        (second["id"], "second", 100),
        (first["id"], "first", 300),
    ]
    assert codes[0]["file"] == second["url"]
    assert owner.call("qr", "Codes", body={"offset": 1, "limit": 1}).json()["codes"][0]["id"] == first["id"]


@pytest.mark.parametrize("body", [{"limit": 0}, {"limit": 1_001}, {"offset": -1}, {"page": 1}])
def test_invalid_codes_request_is_400(owner: Persona, body: dict) -> None:
    response = owner.call("qr", "Codes", body=body)
    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"


def test_closing_the_account_deletes_its_codes(owner: Persona, client) -> None:
    from services.registry import purge_account

    code = owner.call("qr", "Generate", body={"text": "gone"}).json()
    purge_account(owner.account.pk)

    assert client.get(f"/qr/{code['id']}.png").status_code == 404
    assert owner.call("qr", "Codes", body={}).json()["codes"] == []


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=1)
def test_the_row_cap_applies(owner: Persona) -> None:
    assert owner.call("qr", "Generate", body={"text": "one"}).status_code == 200
    refused = owner.call("qr", "Generate", body={"text": "two"})
    assert refused.status_code == 403
    assert refused.json()["id"] == "qr.row_limit"
