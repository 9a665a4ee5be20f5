from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any

from PIL import Image, UnidentifiedImageError

from services.kit import BadRequest, CallContext

# Decoded input size. The gateway's request body cap (M3O_MAX_BODY_BYTES, 1 MiB by default) is usually lower.
MAX_INPUT_BYTES = 5 * 1024 * 1024
# Pixels of an input or output image: 16 megapixels, such as 4,000 x 4,000. Checked before decoding
# pixel data, so a small file that declares a huge image (a decompression bomb) is rejected cheaply.
MAX_PIXELS = 16_000_000
MAX_SIDE = 8_192
# Output formats, keyed by the name callers use, with Pillow's format name.
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
PILLOW_TO_FORMAT = {pillow: name for name, pillow in FORMATS.items()}


def _invalid_image(message: str) -> BadRequest:
    return BadRequest(message, error_id="image.invalid_image", fields={"base64": message})


def open_image(encoded: str) -> Image.Image:
    """Decode base64 input into a loaded image, rejecting oversized files and pixel counts with 400."""
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise _invalid_image("The base64 field is not valid base64. Send the image file's bytes, base64-encoded.") from error
    if not data:
        raise _invalid_image("The image is empty. Send a PNG, JPEG, WebP or GIF file, base64-encoded.")
    if len(data) > MAX_INPUT_BYTES:
        raise _invalid_image(f"The image is {len(data)} bytes, more than the {MAX_INPUT_BYTES} allowed.")

    try:
        with warnings.catch_warnings():
            # Pillow only warns between its MAX_IMAGE_PIXELS and twice that, so the warning is raised as an error too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only these decoders run, so exotic formats (EPS calls Ghostscript) never reach a parser.
            image = Image.open(io.BytesIO(data), formats=list(FORMATS.values()))
            _check_pixels(image.width, image.height, "The image")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Image.open raises these itself for images far above MAX_PIXELS, before _check_pixels runs.
        raise BadRequest(
            f"The image declares more than {MAX_PIXELS} pixels, the limit.",
            error_id="image.too_large",
            fields={"base64": f"At most {MAX_PIXELS} pixels and {MAX_SIDE} pixels a side."},
        ) from error
    except UnidentifiedImageError as error:
        raise _invalid_image("The data is not a PNG, JPEG, WebP or GIF image.") from error
    except (OSError, SyntaxError) as error:
        # Pillow raises OSError for truncated files and SyntaxError for some malformed headers.
        raise _invalid_image("The image file is truncated or corrupt.") from error
    return image


def _check_pixels(width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise BadRequest(
            f"{what} is {width} x {height} pixels. The limit is {MAX_PIXELS} pixels and {MAX_SIDE} pixels a side.",
            error_id="image.too_large",
            fields={"base64": f"At most {MAX_PIXELS} pixels and {MAX_SIDE} pixels a side."},
        )


def encode_image(image: Image.Image, image_format: str) -> dict[str, Any]:
    """Encode an image in a format from FORMATS and return the response fields."""
    if image_format == "jpeg" and image.mode not in {"RGB", "L"}:
        # JPEG has no alpha channel or palette. Transparent areas become black.
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format=FORMATS[image_format])
    return {
        "base64": base64.b64encode(buffer.getvalue()).decode("ascii"),
        "format": image_format,
        "width": image.width,
        "height": image.height,
    }


def _output_format(body: dict[str, Any], image: Image.Image) -> str:
    return body.get("format") or PILLOW_TO_FORMAT.get(image.format or "", "png")


def resize(context: CallContext) -> dict[str, Any]:
    body = context.body
    image = open_image(body["base64"])
    image_format = _output_format(body, image)
    width, height = body.get("width"), body.get("height")
    if width is None and height is None:
        raise BadRequest(
            "Set width, height or both. With one of them the other keeps the aspect ratio.",
            error_id="image.missing_size",
            fields={"width": "Set width or height."},
        )
    # With one side given, scale the other to keep the aspect ratio, but never below one pixel.
    if width is None:
        width = max(1, round(image.width * height / image.height))
    if height is None:
        height = max(1, round(image.height * width / image.width))
    _check_pixels(width, height, "The resized image")

    return encode_image(image.resize((width, height), Image.Resampling.LANCZOS), image_format)


def convert(context: CallContext) -> dict[str, Any]:
    image = open_image(context.body["base64"])
    return encode_image(image, context.body["format"])


def crop(context: CallContext) -> dict[str, Any]:
    body = context.body
    image = open_image(body["base64"])
    left, top, width, height = body["left"], body["top"], body["width"], body["height"]
    if left + width > image.width or top + height > image.height:
        raise BadRequest(
            f"The crop box ({left}, {top}) + {width} x {height} extends outside the {image.width} x {image.height} image.",
            error_id="image.crop_out_of_bounds",
            fields={"width": f"left + width must be at most {image.width}.", "height": f"top + height must be at most {image.height}."},
        )
    return encode_image(image.crop((left, top, left + width, top + height)), _output_format(body, image))
