from __future__ import annotations

from tests.localstripe import localstripe_url, stripe_api  # noqa: F401
