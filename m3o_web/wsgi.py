"""WSGI entry point: granian or gunicorn serve ``m3o_web.wsgi:application``."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m3o_web.settings")
application = get_wsgi_application()
