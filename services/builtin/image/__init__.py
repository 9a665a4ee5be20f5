"""image: resize, convert and crop images sent as base64."""

from __future__ import annotations

from services.builtin.image.handlers import FORMATS, MAX_PIXELS, MAX_SIDE, convert, crop, resize
from services.registry import BuiltinEndpoint, BuiltinService, register

# A 2 x 1 red PNG, small enough to keep the examples readable.
EXAMPLE_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAD0lEQVR4nGP8z8DAwMAAAAYIAQHLR3Z1AAAAAElFTkSuQmCC"

BASE64 = {"type": "string", "minLength": 1, "description": "The image file (PNG, JPEG, WebP or GIF), base64-encoded."}
FORMAT = {"type": "string", "enum": list(FORMATS), "description": "Output format. Defaults to the input's format."}
SIDE = {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
OFFSET = {"type": "integer", "minimum": 0, "maximum": MAX_SIDE}
RESPONSE_SCHEMA = {
    "type": "object",
    "properties": {
        "base64": {"type": "string", "contentEncoding": "base64", "description": "The output image, base64."},
        "format": {"type": "string", "enum": list(FORMATS)},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
    },
    "required": ["base64", "format", "width", "height"],
}


def _example(title: str, request: dict[str, object], width: int, height: int, image_format: str = "png") -> dict[str, object]:
    return {
        "title": title,
        "request": {"base64": EXAMPLE_PNG, **request},
        "response": {"base64": "iVBORw0KGgoAAAANSUhEUg...", "format": image_format, "width": width, "height": height},
    }


SERVICE = register(
    BuiltinService(
        slug="image",
        name="Image",
        tagline="Resize, convert and crop images.",
        description=(
            "Resizes, converts and crops PNG, JPEG, WebP and GIF images sent as base64, and returns "
            f"the result as base64. Inputs and outputs may have at most {MAX_PIXELS:,} pixels and "
            f"{MAX_SIDE:,} pixels a side, and inputs are also limited by the request size cap. Images "
            "that declare more pixels are rejected before they are decoded. GIFs keep only their first frame."
        ),
        category="Media",
        icon="🖼️",
        endpoints=[
            BuiltinEndpoint(
                name="Resize",
                handler=resize,
                description="Resize an image. Give width, height or both; with one, the aspect ratio is kept.",
                request_schema={
                    "type": "object",
                    "properties": {"base64": BASE64, "width": SIDE, "height": SIDE, "format": FORMAT},
                    "required": ["base64"],
                    "additionalProperties": False,
                },
                response_schema=RESPONSE_SCHEMA,
                price_units=2_000,
                examples=[_example("Scale to 4 pixels wide", {"width": 4}, 4, 2)],
            ),
            BuiltinEndpoint(
                name="Convert",
                handler=convert,
                description="Convert an image to another format.",
                request_schema={
                    "type": "object",
                    "properties": {"base64": BASE64, "format": FORMAT},
                    "required": ["base64", "format"],
                    "additionalProperties": False,
                },
                response_schema=RESPONSE_SCHEMA,
                price_units=2_000,
                examples=[_example("PNG to JPEG", {"format": "jpeg"}, 2, 1, "jpeg")],
            ),
            BuiltinEndpoint(
                name="Crop",
                handler=crop,
                description="Crop an image to a box given by its top-left corner and size.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "base64": BASE64,
                        "left": OFFSET,
                        "top": OFFSET,
                        "width": SIDE,
                        "height": SIDE,
                        "format": FORMAT,
                    },
                    "required": ["base64", "left", "top", "width", "height"],
                    "additionalProperties": False,
                },
                response_schema=RESPONSE_SCHEMA,
                price_units=2_000,
                examples=[_example("The left pixel", {"left": 0, "top": 0, "width": 1, "height": 1}, 1, 1)],
            ),
        ],
    )
)
