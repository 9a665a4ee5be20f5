"""The qr service through the gateway."""

from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
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
