"""ASGI entry point: ``m3o_web.asgi:application``."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m3o_web.settings")
application = get_asgi_application()
