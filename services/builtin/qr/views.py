from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from services.builtin.qr.models import QrCode


@require_safe
def image(request: HttpRequest, public_id: str) -> HttpResponse:
    """Serve a generated QR code's PNG. Codes never change, so clients may cache them for long."""
    png = QrCode.objects.filter(public_id=public_id).values_list("png", flat=True).first()
    if png is None:
        raise Http404("No such QR code.")
    response = HttpResponse(bytes(png), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
