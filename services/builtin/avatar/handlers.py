from __future__ import annotations

import base64
import colorsys
import hashlib
import io
from typing import Any

from PIL import Image, ImageDraw

from services.kit import CallContext

GRID = 5
BACKGROUND = (240, 240, 240)
MEDIA_TYPES = {"png": "PNG", "jpeg": "JPEG"}


def draw_identicon(username: str, size: int) -> Image.Image:
    """Draw a GitHub-style identicon, a 5x5 grid mirrored left to right and coloured from a SHA-256 of the username."""
    digest = hashlib.sha256(username.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 0xFFFF
    red, green, blue = colorsys.hls_to_rgb(hue, 0.5, 0.6)
    colour = (round(red * 255), round(green * 255), round(blue * 255))

    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    # A margin of about half a cell on each side, so the grid spans about five sixths of the image.
    cell = size // (GRID + 1)
    margin = (size - GRID * cell) // 2
    for row in range(GRID):
        for column in range(GRID):
            # One bit of the digest per cell.
            if not digest[2 + row * GRID + column] & 1:
                continue
            left = margin + column * cell
            top = margin + row * cell
            draw.rectangle((left, top, left + cell - 1, top + cell - 1), fill=colour)

    # Copy the left half onto the right, flipped, so the picture is exactly symmetric at every size.
    half = size // 2
    left_half = image.crop((0, 0, half, size))
    image.paste(left_half.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (size - half, 0))
    return image


def generate(context: CallContext) -> dict[str, Any]:
    image_format = context.body.get("format", "png")
    size = context.body.get("size", 256)
    image = draw_identicon(context.body["username"], size)

    buffer = io.BytesIO()
    image.save(buffer, format=MEDIA_TYPES[image_format])
    return {"avatar": base64.b64encode(buffer.getvalue()).decode("ascii"), "format": image_format}
