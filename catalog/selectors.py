"""Reads for the catalog."""

from __future__ import annotations

import re

from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.authentication import EpochCache, Epochs, epoch_bump
from catalog.models import Category, Endpoint, EndpointPrice, Service, UpstreamConfig

CALLABLE_STATUSES = [Service.Status.PUBLISHED, Service.Status.DEPRECATED]


def _price_at(at: datetime) -> Subquery:
    return Subquery(
        EndpointPrice.objects.filter(endpoint=OuterRef("pk"), effective_from__lte=at)
        .order_by("-effective_from")
        .values("price_units")[:1]
    )


def endpoints_with_prices(*, at: datetime | None = None) -> QuerySet[Endpoint]:
    """Endpoints annotated with ``current_price_units``, the price in effect at ``at`` (default now)."""
    return Endpoint.objects.annotate(current_price_units=_price_at(at or timezone.now()))


def services_listed() -> QuerySet[Service]:
    """Published and deprecated services, with their endpoints and current prices."""
    return (
        Service.objects.filter(status__in=CALLABLE_STATUSES)
        .select_related("category")
        .prefetch_related(Prefetch("endpoints", queryset=endpoints_with_prices().order_by("position", "name")))
    )


def services_search(*, query: str = "", category: Category | None = None) -> QuerySet[Service]:
    """Listed services whose name, slug, tagline, description or endpoint names contain ``query``."""
    services = services_listed()
    if category is not None:
        services = services.filter(category=category)
    if query:
        matching_endpoints = Endpoint.objects.filter(name__icontains=query).values("service_id")
        services = services.filter(
            Q(name__icontains=query)
            | Q(slug__icontains=query)
            | Q(tagline__icontains=query)
            | Q(description__icontains=query)
            | Q(category__name__icontains=query)
            | Q(pk__in=matching_endpoints)
        )
    return services.order_by("name")


def categories_listed() -> QuerySet[Category]:
    """Categories that contain at least one listed service."""
    return Category.objects.filter(services__status__in=CALLABLE_STATUSES).distinct()


# Slugs that can exist. Anything else (a NUL, a very long string) is not
# found without a query, since PostgreSQL rejects NUL in text.
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


def category_by_slug(slug: str) -> Category | None:
    if not SLUG.fullmatch(slug):
        return None
    return Category.objects.filter(slug=slug).first()


def service_listed(slug: str) -> Service | None:
    if not SLUG.fullmatch(slug):
        return None
    return services_listed().filter(slug=slug.lower()).first()


def endpoint_for_call(*, service_slug: str, endpoint_name: str) -> Endpoint | None:
    """Return the callable endpoint for /v1/<service>/<endpoint>, matching both names case-insensitively.

    The endpoint carries the price in effect now, which is what the gateway
    reserves and charges. The service's status is read on every call, so
    publishing or unpublishing takes effect without a restart.
    """
    return (
        endpoints_with_prices()
        .select_related("service", "service__upstream")
        .filter(
            service__slug=service_slug.lower(),
            service__status__in=CALLABLE_STATUSES,
            name__iexact=endpoint_name,
        )
        .first()
    )


CATALOG_EPOCH_KEY = "m3o:catalog-epoch"
CALL_CACHE_TTL_SECONDS = 60
_call_cache: EpochCache[Endpoint | None] = EpochCache(epoch_name=CATALOG_EPOCH_KEY, ttl_seconds=CALL_CACHE_TTL_SECONDS)


def endpoint_for_call_cached(*, service_slug: str, endpoint_name: str, epochs: Epochs) -> Endpoint | None:
    """``endpoint_for_call`` from this process's cache, for the gateway's hot path.

    Every catalog change (service, endpoint, price, upstream) bumps the shared
    catalog epoch, so the next call in every process reads the database again.
    A price that takes effect later, with no write at that moment, ends the
    entry's life at its effective time.
    """
    key = (service_slug.lower(), endpoint_name.lower())
    return _call_cache.get(key, epochs=epochs, load=lambda: _endpoint_for_call_load(service_slug, endpoint_name))


def _endpoint_for_call_load(service_slug: str, endpoint_name: str) -> tuple[Endpoint | None, float | None]:
    now = timezone.now()
    endpoint = endpoint_for_call(service_slug=service_slug, endpoint_name=endpoint_name)
    if endpoint is None:
        return None, None
    next_price_at = (
        EndpointPrice.objects.filter(endpoint=endpoint, effective_from__gt=now)
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    return endpoint, None if next_price_at is None else max((next_price_at - now).total_seconds(), 0.0)


@receiver(post_save, sender=Service, dispatch_uid="catalog_epoch_service_saved")
@receiver(post_delete, sender=Service, dispatch_uid="catalog_epoch_service_deleted")
@receiver(post_save, sender=Endpoint, dispatch_uid="catalog_epoch_endpoint_saved")
@receiver(post_delete, sender=Endpoint, dispatch_uid="catalog_epoch_endpoint_deleted")
@receiver(post_save, sender=EndpointPrice, dispatch_uid="catalog_epoch_price_saved")
@receiver(post_delete, sender=EndpointPrice, dispatch_uid="catalog_epoch_price_deleted")
@receiver(post_save, sender=UpstreamConfig, dispatch_uid="catalog_epoch_upstream_saved")
@receiver(post_delete, sender=UpstreamConfig, dispatch_uid="catalog_epoch_upstream_deleted")
def _catalog_changed(sender: type[Any], **kwargs: Any) -> None:
    catalog_changed()


def call_cache_clear() -> None:
    """Forget this process's cached endpoints (tests; the epoch does it across processes)."""
    _call_cache.clear()


def catalog_changed() -> None:
    """Make every process reload the endpoints it cached; for writes that send no model signal (``update()``)."""
    epoch_bump(CATALOG_EPOCH_KEY)
    _call_cache.clear()


def endpoint_price_at(*, endpoint: Endpoint, at: datetime) -> int:
    """Price in units of one call to ``endpoint`` at ``at``; 0 before the endpoint's first price."""
    price = (
        EndpointPrice.objects.filter(endpoint=endpoint, effective_from__lte=at)
        .order_by("-effective_from")
        .values_list("price_units", flat=True)
        .first()
    )
    return price or 0


def endpoint_price_history(*, endpoint: Endpoint) -> list[EndpointPrice]:
    return list(EndpointPrice.objects.filter(endpoint=endpoint).order_by("-effective_from"))
