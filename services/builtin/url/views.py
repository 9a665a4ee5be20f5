from __future__ import annotations

from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.views.decorators.http import require_safe

from services.builtin.url.models import ShortURL


@require_safe
def redirect(request: HttpRequest, short_id: str) -> HttpResponseRedirect:
    """Redirect a short link to its destination and count the visit."""
    links = ShortURL.objects.filter(short_id=short_id)
    if not links.update(hits=F("hits") + 1):
        raise Http404("No such short link.")
    return HttpResponseRedirect(links.values_list("destination", flat=True).get())
