"""The registry of provider-backed services, and the handler that sends their calls to the chosen adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog

from catalog.crypto import DecryptionFailed, decrypt
from catalog.services import EndpointSpec
from m3o_web.errors import ServiceUnavailable
from services.kit import CallContext
from services.providers.base import ProviderCall, ProviderService, ProviderSettings, cached_call
from services.registry import BuiltinEndpoint, BuiltinService, register

logger = structlog.get_logger(__name__)

_services: dict[str, ProviderService] = {}


def provider_service_register(
    *, service: ProviderService, spec: dict[str, Any], endpoints: Sequence[EndpointSpec]
) -> BuiltinService:
    """Register a provider-backed service: its catalog entry with the gateway, its adapters here."""
    names = {endpoint.name for endpoint in endpoints}
    for adapter in service.adapters:
        unknown = set(adapter.endpoints) - names
        if unknown:
            raise ValueError(f"Adapter {adapter.name} of {service.slug} maps unknown endpoints {sorted(unknown)}.")
    provider_service_add(service)
    builtin = BuiltinService(
        slug=service.slug,
        endpoints=[BuiltinEndpoint(handler=dispatch, **vars(endpoint)) for endpoint in endpoints],
        **spec,
    )
    return register(builtin)


def provider_service_add(service: ProviderService) -> None:
    """Add the adapters of a service; a built-in service registered elsewhere may call dispatch too."""
    if service.slug in _services and _services[service.slug] is not service:
        raise ValueError(f"Provider service {service.slug!r} is registered twice.")
    _services[service.slug] = service


def get(slug: str) -> ProviderService | None:
    return _services.get(slug)


def all_services() -> list[ProviderService]:
    return sorted(_services.values(), key=lambda service: service.slug)


def _unavailable(service: ProviderService, why: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The {service.title} service is not available on this platform yet: {why}. "
        "The call was not charged.",
        error_id=f"{service.slug}.unavailable",
    )


def provider_settings(service: ProviderService) -> ProviderSettings | None:
    """The settings a call to ``service`` runs with, or None when no provider is usable."""
    from services.providers.models import ProviderConfig

    config = ProviderConfig.objects.filter(service__slug=service.slug).first()
    if config is None:
        if service.default_provider is None:
            return None
        return ProviderSettings(provider=service.default_provider)

    adapter = service.adapter(config.provider)
    if adapter is None:
        logger.error("Configured provider does not exist", service=service.slug, provider=config.provider)
        return None
    credential = ""
    if config.credential_encrypted:
        try:
            credential = decrypt(config.credential_encrypted)
        except DecryptionFailed:
            logger.error("Provider credential cannot be decrypted", service=service.slug, provider=config.provider)
            return None
    if adapter.needs_credential and not credential:
        return None
    return ProviderSettings(
        provider=config.provider,
        credential=credential,
        base_url=config.base_url,
        connect_timeout_ms=config.connect_timeout_ms,
        read_timeout_ms=config.read_timeout_ms,
        cache_seconds={name: int(seconds) for name, seconds in config.cache_seconds.items()},
        version=f"{config.pk}.{config.updated_at.timestamp():.6f}",
    )


def dispatch(context: CallContext) -> dict[str, Any]:
    """The handler of every provider-backed endpoint."""
    service = _services.get(context.service)
    if service is None:
        raise ServiceUnavailable(f"The {context.service} service has no providers on this platform.")
    settings = provider_settings(service)
    if settings is None:
        raise _unavailable(service, "an operator has not chosen and set up its data provider")
    adapter = service.adapter(settings.provider)
    assert adapter is not None
    mapping = adapter.endpoints.get(context.endpoint)
    if mapping is None:
        raise _unavailable(service, f"its data provider does not offer {context.endpoint}")

    call = ProviderCall(service=service, adapter=adapter, settings=settings, context=context)
    return cached_call(
        service=service,
        endpoint=context.endpoint,
        settings=settings,
        context=context,
        compute=lambda: call.run(mapping, context.body),
    )


def unavailable_services() -> set[str]:
    """Return the provider-backed services that cannot serve calls: no provider chosen, or one missing its credential."""
    from services.providers.models import ProviderConfig

    configs = {config.service.slug: config for config in ProviderConfig.objects.select_related("service")}
    unavailable = set()
    for service in _services.values():
        config = configs.get(service.slug)
        if config is None:
            if service.default_provider is None:
                unavailable.add(service.slug)
            continue
        adapter = service.adapter(config.provider)
        if adapter is None or (adapter.needs_credential and not config.has_credential):
            unavailable.add(service.slug)
    return unavailable
