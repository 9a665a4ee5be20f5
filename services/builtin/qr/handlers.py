from __future__ import annotations

import base64
import io
import secrets
from typing import Any

import qrcode
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import Length
from PIL import Image

from services.builtin.qr.models import QrCode
from services.builtin.quota import check_room
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
    png = buffer.getvalue()

    with transaction.atomic():
        # Lock the account's row, as check_write_room does, so parallel calls count the codes one at a time.
        account_model = apps.get_model("accounts", "Account")
        list(account_model.objects.select_for_update(no_key=True).filter(pk=context.account_id).values_list("pk", flat=True))
        stored = _codes(context).aggregate(rows=Count("pk"), bytes=Sum(Length("png")))
        check_room(
            account_id=context.account_id,
            service="qr",
            stored=stored["rows"],
            stored_bytes=stored["bytes"] or 0,
            adding_bytes=len(png),
        )
        code = QrCode.objects.create(
            account_id=context.account_id, public_id=secrets.token_urlsafe(16), text=text, size=size, png=png
        )
    return {"qr": base64.b64encode(png).decode("ascii"), "url": _url(code), "id": code.public_id, "size": size}


def codes(context: CallContext) -> dict[str, Any]:
    offset = context.body.get("offset", 0)
    limit = context.body.get("limit", 100)
    page = _codes(context).order_by("-created_at", "-pk").only("public_id", "text", "size", "created_at")
    return {
        "codes": [
            {
                "id": code.public_id,
                "text": code.text,
                "file": _url(code),
                "size": code.size,
                "created": code.created_at.isoformat(),
            }
            for code in page[offset : offset + limit]
        ]
    }


def purge_account(account_id: int) -> None:
    QrCode.objects.filter(account_id=account_id).delete()


def _codes(context: CallContext):
    return QrCode.objects.filter(account_id=context.account_id)


def _url(code: QrCode) -> str:
    return f"{settings.SITE_URL}/qr/{code.public_id}.png"
