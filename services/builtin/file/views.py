from __future__ import annotations

import posixpath

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.http import require_safe

from services.builtin.file.models import FileSpace, StoredFile

# Types a browser shows without running anything. A file of any other type, HTML, SVG and
# JavaScript among them, is sent as a plain-text download: user content must never run in
# the platform's origin.
INLINE_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".md": "text/markdown",
    ".json": "application/json",
}


@require_safe
def public_file(request: HttpRequest, public_id: str, file_path: str) -> HttpResponse:
    """Serve a file its owner saved as public, at /f/<the account's public id>/<project>/<path>."""
    project, _, path = file_path.partition("/")
    account_id = FileSpace.objects.filter(public_id=public_id).values_list("account_id", flat=True).first()
    stored = (
        StoredFile.objects.filter(account_id=account_id, project=project, path=f"/{path}", public=True).first()
        if account_id is not None
        else None
    )
    if stored is None:
        raise Http404("No such public file.")

    name = posixpath.basename(stored.path)
    inline_type = INLINE_TYPES.get(posixpath.splitext(name)[1].lower())
    response = HttpResponse(
        stored.content.encode("utf-8"), content_type=f"{inline_type or 'text/plain'}; charset=utf-8"
    )
    if inline_type is None:
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    # Even a type sniffed against the rules gets no scripts, forms or plugins.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=60"
    response["Last-Modified"] = http_date(stored.updated_at.timestamp())
    return response
