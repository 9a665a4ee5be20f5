"""Reads for the catalog."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from catalog.models import Endpoint, Service


def services_listed() -> QuerySet[Service]:
    return Service.objects.filter(status__in=[Service.Status.PUBLISHED, Service.Status.DEPRECATED]).prefetch_related(
        Prefetch("endpoints", queryset=Endpoint.objects.order_by("position", "name"))
    )


def endpoint_for_call(*, service_slug: str, endpoint_name: str) -> Endpoint | None:
    """The callable endpoint for /v1/<service>/<endpoint>, matching both names case-insensitively."""
    return (
        Endpoint.objects.select_related("service")
        .filter(
            service__slug=service_slug.lower(),
            service__status__in=[Service.Status.PUBLISHED, Service.Status.DEPRECATED],
            name__iexact=endpoint_name,
        )
        .first()
    )
