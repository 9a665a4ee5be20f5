"""The image service through the gateway."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import Persona


def encode(image: Image.Image, image_format: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def call(persona: Persona, endpoint: str, **body: object) -> tuple[dict, Image.Image]:
    response = persona.call("image", endpoint, body=body)
    assert response.status_code == 200, response.content
    result = response.json()
    return result, Image.open(io.BytesIO(base64.b64decode(result["base64"])))


def quadrants() -> Image.Image:
    """Return a 40 x 20 image whose left half is red and right half blue."""
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    image.paste((0, 0, 255), (20, 0, 40, 20))
    return image


def test_resize_both_sides(owner: Persona) -> None:
    result, image = call(owner, "Resize", base64=encode(quadrants()), width=10, height=30)

    assert (result["width"], result["height"], result["format"]) == (10, 30, "png")
    assert image.size == (10, 30)
    assert image.format == "PNG"


def test_resize_keeps_aspect_ratio(owner: Persona) -> None:
    result, image = call(owner, "Resize", base64=encode(quadrants()), width=20)

    assert image.size == (20, 10)
    assert result["height"] == 10


def test_resize_to_largest_output(owner: Persona) -> None:
    result, image = call(owner, "Resize", base64=encode(quadrants()), width=4_000, height=4_000)

    assert image.size == (4_000, 4_000)


def test_largest_input_is_accepted(owner: Persona) -> None:
    big = Image.new("L", (4_000, 4_000), 0)
    result, image = call(owner, "Resize", base64=encode(big), width=10, height=10)

    assert image.size == (10, 10)


@pytest.mark.parametrize(("image_format", "pillow_format"), [("jpeg", "JPEG"), ("webp", "WEBP"), ("gif", "GIF"), ("png", "PNG")])
def test_convert_formats(owner: Persona, image_format: str, pillow_format: str) -> None:
    result, image = call(owner, "Convert", base64=encode(quadrants().convert("RGBA")), format=image_format)

    assert result["format"] == image_format
    assert image.format == pillow_format
    assert image.size == (40, 20)


def test_crop_takes_the_box(owner: Persona) -> None:
    result, image = call(owner, "Crop", base64=encode(quadrants()), left=20, top=5, width=20, height=15)

    assert image.size == (20, 15)
    assert image.convert("RGB").getcolors() == [(300, (0, 0, 255))]


def test_crop_keeps_input_format(owner: Persona) -> None:
    result, image = call(owner, "Crop", base64=encode(quadrants(), "JPEG"), left=0, top=0, width=40, height=20)

    assert result["format"] == "jpeg"
    assert image.format == "JPEG"


def decompression_bomb() -> str:
    """Return a PNG of about 10 KB that declares 10,000 x 10,000 pixels."""
    return encode(Image.new("1", (10_000, 10_000), 0))


@pytest.mark.parametrize(
    ("endpoint", "body", "error_id"),
    [
        ("Resize", {"base64": decompression_bomb(), "width": 10}, "image.too_large"),
        ("Resize", {"base64": encode(Image.new("L", (4_001, 4_000))), "width": 10}, "image.too_large"),
        ("Resize", {"base64": encode(quadrants()), "width": 8_192, "height": 8_192}, "image.too_large"),
        ("Resize", {"base64": encode(quadrants())}, "image.missing_size"),
        ("Resize", {"base64": "not base64!", "width": 10}, "image.invalid_image"),
        ("Resize", {"base64": base64.b64encode(b"hello").decode(), "width": 10}, "image.invalid_image"),
        ("Resize", {"base64": encode(quadrants())[:60], "width": 10}, "image.invalid_image"),
        ("Resize", {"base64": encode(quadrants(), "BMP"), "width": 10}, "image.invalid_image"),
        ("Resize", {"base64": "", "width": 10}, "v1.invalid_request"),
        ("Resize", {"base64": encode(quadrants()), "width": 0}, "v1.invalid_request"),
        ("Convert", {"base64": encode(quadrants()), "format": "bmp"}, "v1.invalid_request"),
        ("Convert", {"base64": encode(quadrants())}, "v1.invalid_request"),
        ("Crop", {"base64": encode(quadrants()), "left": 30, "top": 0, "width": 20, "height": 5}, "image.crop_out_of_bounds"),
        ("Crop", {"base64": encode(quadrants()), "left": -1, "top": 0, "width": 1, "height": 1}, "v1.invalid_request"),
        ("Crop", {"base64": encode(quadrants()), "left": 0, "top": 0, "width": 1}, "v1.invalid_request"),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict, error_id: str) -> None:
    before = owner.balance
    response = owner.call("image", endpoint, body=body)

    assert response.status_code == 400, response.content
    assert response.json()["id"] == error_id
    assert owner.balance == before
