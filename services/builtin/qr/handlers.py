from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
from PIL import Image

from services.kit import BadRequest, CallContext

# Byte-mode capacity of the largest QR code (version 40) at error correction level M, as the qrcode package fits it.
MAX_TEXT_BYTES = 2_331


def generate(context: CallContext) -> dict[str, Any]:
    text = context.body["text"]
    size = context.body.get("size", 300)

    text_bytes = len(text.encode("utf-8"))
    if text_bytes > MAX_TEXT_BYTES:
        raise BadRequest(
            f"The text is {text_bytes} bytes of UTF-8, but a QR code at error correction level M holds at most "
            f"{MAX_TEXT_BYTES}. Shorten the text.",
            error_id="qr.text_too_long",
            fields={"text": f"At most {MAX_TEXT_BYTES} bytes of UTF-8."},
        )

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(text)
    code.make(fit=True)

    modules = code.make_image().get_image().convert("L")
    if modules.width > size:
        raise BadRequest(
            f"This text needs {modules.width} modules across, quiet zone included, which do not fit in {size} pixels. "
            f"Set size to at least {modules.width}.",
            error_id="qr.size_too_small",
            fields={"size": f"Must be at least {modules.width} for this text."},
        )
    # Nearest-neighbour scaling keeps the modules sharp-edged for scanners.
    image = modules.resize((size, size), Image.Resampling.NEAREST)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return {"qr": base64.b64encode(buffer.getvalue()).decode("ascii"), "size": size}
