"""The avatar service through the gateway."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import Persona


def generate(persona: Persona, **body: object) -> bytes:
    response = persona.call("avatar", "Generate", body=body)
    assert response.status_code == 200, response.content
    assert response.json()["format"] == body.get("format", "png")
    return base64.b64decode(response.json()["avatar"])


def test_same_username_same_image(owner: Persona) -> None:
    first = generate(owner, username="alice")
    second = generate(owner, username="alice")

    assert first == second
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(first)).size == (256, 256)


def test_different_usernames_differ(owner: Persona) -> None:
    assert generate(owner, username="alice") != generate(owner, username="bob")


def test_pattern_is_mirrored(owner: Persona) -> None:
    image = Image.open(io.BytesIO(generate(owner, username="carol")))

    assert image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).tobytes() == image.tobytes()
    assert len(image.getcolors()) == 2


@pytest.mark.parametrize("size", [16, 1024])
def test_jpeg_at_size_limits(owner: Persona, size: int) -> None:
    data = generate(owner, username="dave", format="jpeg", size=size)

    assert data.startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(data)).size == (size, size)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": ""},
        {"username": "a", "format": "gif"},
        {"username": "a", "size": 15},
        {"username": "a", "size": 1025},
    ],
)
def test_invalid_generate_is_400_and_free(owner: Persona, body: dict) -> None:
    before = owner.balance
    response = owner.call("avatar", "Generate", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before
