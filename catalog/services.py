"""Writes for the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import transaction

from catalog.models import Endpoint, Service

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class EndpointSpec:
    """An endpoint as code declares it; see service_sync_builtin for what the catalog keeps."""

    name: str
    description: str
    request_schema: dict[str, Any]
    response_schema: dict[str, Any]
    # Default price of a successful call in units (1 unit = US$0.000001).
    price_units: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    free_quota: int = 0


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    slug: str
    name: str
    tagline: str
    description: str
    category: str
    icon: str
    endpoints: Sequence[EndpointSpec]


def service_sync_builtin(*, spec: ServiceSpec) -> Service:
    """Bring a built-in service's catalog rows in line with its code.

    Precedence: code owns what code must agree with (the request and response
    schemas, and the endpoints that exist). Everything an operator may edit in
    admin (names, texts, status, prices, quotas, examples) is written only when
    the row is first created, and never overwritten afterwards.
    """
    with transaction.atomic():
        service, created = Service.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "tagline": spec.tagline,
                "description": spec.description,
                "category": spec.category,
                "icon": spec.icon,
                "status": Service.Status.PUBLISHED,
                "backend": Service.Backend.BUILTIN,
            },
        )
        for position, endpoint_spec in enumerate(spec.endpoints):
            endpoint = Endpoint.objects.filter(service=service, name__iexact=endpoint_spec.name).first()
            if endpoint is None:
                Endpoint.objects.create(
                    service=service,
                    name=endpoint_spec.name,
                    description=endpoint_spec.description,
                    request_schema=endpoint_spec.request_schema,
                    response_schema=endpoint_spec.response_schema,
                    examples=endpoint_spec.examples,
                    price_units=endpoint_spec.price_units,
                    free_quota=endpoint_spec.free_quota,
                    position=position,
                )
            elif (endpoint.request_schema, endpoint.response_schema) != (
                endpoint_spec.request_schema,
                endpoint_spec.response_schema,
            ):
                endpoint.request_schema = endpoint_spec.request_schema
                endpoint.response_schema = endpoint_spec.response_schema
                endpoint.save(update_fields=["request_schema", "response_schema"])
    if created:
        logger.info("Built-in service added to the catalog", service=spec.slug)
    return service
