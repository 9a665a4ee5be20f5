from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from catalog import crypto
from catalog.models import Service
from services.providers.models import ProviderConfig
from tests.services.providers.fake_provider import FakeProviders, fake_providers
from tests.services.providers.recordings import TWILIO_SID

# One credential per provider; each is long and distinctive so a leak anywhere is found by a substring search.
CREDENTIALS = {
    "open-meteo": "om-commercial-key-5d1c8e2b7a",
    "weatherapi": "wapi-key-9f8e7d6c5b4a3210",
    "frankfurter": "frank-unused-key-3a7c9e1b",
    "exchangerate-host": "erh-access-key-c0ffee12ab34",
    "nominatim": "nominatim-unused-8b2d4f6a1c",
    "ip-api": "ipapi-unused-key-4e6a8c0b2d",
    "nager": "nager-unused-key-7f9b1d3e5a",
    "thenewsapi": "tna-token-1b3d5f7a9c2e4",
    "deepl": "deepl-key-2c4e6a8b0d1f:fx",
    "twilio": f"{TWILIO_SID}:twilio-auth-token-6e8a0c2b4d",
    "postmark": "pm-server-token-8d0f2b4a6c1e",
    "polygon": "poly-key-0a2c4e6b8d1f3",
    "coinbase": "coinbase-unused-key-5b7d9f1a3c",
    "osrm": "osrm-unused-key-9e1a3c5b7d",
    "smtp": "",
    "library": "",
}


@pytest.fixture
def providers(settings: Any) -> Iterator[FakeProviders]:
    # The operator allowlist is the only way past the outbound guard to a loopback address.
    settings.M3O_UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1"]
    with fake_providers() as fake:
        yield fake


def configure(
    service: str, provider: str, fake: FakeProviders | None = None, **fields: Any
) -> ProviderConfig:
    """Set up a service's provider as an operator would, pointing it at the fake server."""
    credential = fields.pop("credential", CREDENTIALS[provider])
    config, _ = ProviderConfig.objects.update_or_create(
        service=Service.objects.get(slug=service),
        defaults={
            "provider": provider,
            "base_url": fake.base_url(provider) if fake else "",
            "credential_encrypted": crypto.encrypt(credential) if credential else "",
            "credential_last4": credential[-4:] if credential else "",
            "read_timeout_ms": 2_000,
            "updated_at": timezone.now(),
            **fields,
        },
    )
    return config


@pytest.fixture
def use_provider(providers: FakeProviders) -> Callable[..., ProviderConfig]:
    def use(service: str, provider: str, **fields: Any) -> ProviderConfig:
        return configure(service, provider, providers, **fields)

    return use
