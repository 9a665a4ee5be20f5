"""ASGI entry point: ``m3o_web.asgi:application``.

Serves stream endpoints (WebSocket and newline-delimited JSON, see
services/streaming) on the event loop and everything else through Django.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m3o_web.settings")
django_application = get_asgi_application()

from services.streaming.asgi import StreamingRouter  # noqa: E402  (needs the apps loaded above)

application = StreamingRouter(django_application)
