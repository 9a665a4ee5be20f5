"""The qr service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.qr.handlers import MAX_TEXT_BYTES, codes, generate, purge_account
from services.builtin.schemas import MAX_OFFSET
from services.registry import BuiltinEndpoint, BuiltinService, register

SERVICE = register(
    BuiltinService(
        slug="qr",
        name="QR Codes",
        tagline="Generate QR codes as PNG images.",
        description=(
            "Encodes text or a link as a QR code at error correction level M and returns a square, "
            "black-on-white PNG image, base64-encoded and at a public URL on this platform. The code has the "
            "standard four-module quiet zone. Codes lists the codes the account made."
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
                        "url": {"type": "string", "format": "uri", "description": "Public URL of the PNG image."},
                        "id": {"type": "string", "description": "The code's id, also the last part of its URL."},
                        "size": {"type": "integer", "description": "Width and height in pixels."},
                    },
                    "required": ["qr", "url", "id", "size"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A link",
                        "request": {"text": "https://m3o.com", "size": 300},
                        "response": {
                            "qr": "iVBORw0KGgoAAAANSUhEUgAAASwAAAEsCAAAAAC...",
                            "url": "https://m3o.example/qr/3q2-7wEXAMPLEb4gGmcZ9A.png",
                            "id": "3q2-7wEXAMPLEb4gGmcZ9A",
                            "size": 300,
                        },
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Codes",
                handler=codes,
                description="List the QR codes this account generated, newest first.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0, "description": "Codes to skip."},
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1_000,
                            "default": 100,
                            "description": "Most codes to return.",
                        },
                    },
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "codes": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string"},
                                    "text": {"type": "string"},
                                    "file": {"type": "string", "format": "uri", "description": "URL of the PNG."},
                                    "size": {"type": "integer"},
                                    "created": {"type": "string", "format": "date-time"},
                                },
                                "required": ["id", "text", "file", "size", "created"],
                            },
                        }
                    },
                    "required": ["codes"],
                },
                price_units=0,
                examples=[
                    {
                        "title": "The newest code",
                        "request": {"limit": 1},
                        "response": {
                            "codes": [
                                {
                                    "id": "3q2-7wEXAMPLEb4gGmcZ9A",
                                    "text": "https://m3o.com",
                                    "file": "https://m3o.example/qr/3q2-7wEXAMPLEb4gGmcZ9A.png",
                                    "size": 300,
                                    "created": "2026-01-01T12:00:00+00:00",
                                }
                            ]
                        },
                    }
                ],
            ),
        ],
        purge_account=purge_account,
    )
)
