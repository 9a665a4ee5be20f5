"""qr: QR code PNG images for text and links."""

from __future__ import annotations

from services.builtin.qr.handlers import MAX_TEXT_BYTES, generate
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="qr",
        name="QR Codes",
        tagline="Generate QR codes as PNG images.",
        description=(
            "Encodes text or a link as a QR code at error correction level M and returns a square, "
            "black-on-white PNG image, base64-encoded. The code has the standard four-module quiet zone."
        ),
        category="Developer tools",
        icon="🔳",
        endpoints=[
            BuiltinEndpoint(
                name="Generate",
                handler=generate,
                description="Generate a QR code PNG for a text.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "text": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_TEXT_BYTES,
                            "description": f"Text or link to encode, at most {MAX_TEXT_BYTES} bytes of UTF-8.",
                        },
                        "size": {
                            "type": "integer",
                            "minimum": 64,
                            "maximum": 2_000,
                            "default": 300,
                            "description": "Width and height of the image in pixels.",
                        },
                    },
                    "required": ["text"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "qr": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"},
                        "size": {"type": "integer", "description": "Width and height in pixels."},
                    },
                    "required": ["qr", "size"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A link",
                        "request": {"text": "https://m3o.com", "size": 300},
                        "response": {"qr": "iVBORw0KGgoAAAANSUhEUgAAASwAAAEsCAAAAAC...", "size": 300},
                    }
                ],
            )
        ],
    )
)
