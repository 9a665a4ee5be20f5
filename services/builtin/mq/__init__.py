"""mq: publish messages to a topic and subscribe to them as a stream; nothing is stored."""

from __future__ import annotations

from services.builtin.mq import service  # noqa: F401  (registers the service)
