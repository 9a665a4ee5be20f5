from __future__ import annotations

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    """Render operator-written Markdown, with HTML sanitised by nh3 so no script gets through."""
    html = markdown_lib.markdown(text or "", extensions=["fenced_code", "tables"])
    return mark_safe(nh3.clean(html))  # noqa: S308  (sanitised on the line above)
