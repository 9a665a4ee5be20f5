"""Writes for the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog import crypto
from catalog.models import Category, Endpoint, EndpointPrice, Service, UpstreamConfig
from catalog.selectors import catalog_changed
from catalog.validation import examples_problems, schema_problems

logger = structlog.get_logger(__name__)

# A price may start this long before "now", to absorb the time between an
# operator opening the form and saving it. Earlier dates would rewrite history.
PRICE_BACKDATE_TOLERANCE = timedelta(minutes=5)


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
    streaming: bool = False


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    slug: str
    name: str
    tagline: str
    description: str
    # The category's display name; its row is created on first use.
    category: str
    icon: str
    endpoints: Sequence[EndpointSpec]


# Fields code declares and an operator may override in admin. Code always owns
# the schemas and the streaming flag, because the handler depends on them.
SERVICE_DECLARED_FIELDS = ("name", "tagline", "description", "category", "icon")
ENDPOINT_DECLARED_FIELDS = ("description", "examples", "free_quota", "position")
ENDPOINT_CODE_FIELDS = ("request_schema", "response_schema", "streaming")


def spec_problems(spec: ServiceSpec) -> list[str]:
    """Problems in a built-in service's declaration: invalid schemas, examples or prices."""
    problems = []
    for endpoint in spec.endpoints:
        prefix = f"{spec.slug}/{endpoint.name}: "
        found = schema_problems(endpoint.request_schema, label="request schema")
        found += schema_problems(endpoint.response_schema, label="response schema")
        if not found:
            found += examples_problems(
                endpoint.examples, request_schema=endpoint.request_schema, response_schema=endpoint.response_schema
            )
        if endpoint.price_units < 0:
            found.append(f"the default price {endpoint.price_units} is negative.")
        problems += [prefix + problem for problem in found]
    return problems


# Declarations already checked in this process, by identity: they are code, and the
# check (every schema and example) costs more than the rest of a sync, which runs after
# every migrate and every test database flush.
_checked_declarations: dict[int, tuple[ServiceSpec, list[str]]] = {}


def _declaration_problems(spec: ServiceSpec) -> list[str]:
    checked = _checked_declarations.get(id(spec))
    if checked is None or checked[0] is not spec:
        checked = _checked_declarations[id(spec)] = (spec, spec_problems(spec))
    return checked[1]


def category_for_name(*, name: str) -> Category | None:
    """Return the category with this display name, creating it on first use."""
    name = name.strip()
    if not name:
        return None
    category = Category.objects.filter(name__iexact=name).first()
    if category is None:
        category, _ = Category.objects.get_or_create(slug=slugify(name)[:64] or "other", defaults={"name": name[:64]})
    return category


def _declared_service_values(spec: ServiceSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "tagline": spec.tagline,
        "description": spec.description,
        "category": category_for_name(name=spec.category),
        "icon": spec.icon,
    }


def _declared_endpoint_values(spec: EndpointSpec, position: int) -> dict[str, Any]:
    return {
        "description": spec.description,
        "examples": spec.examples,
        "free_quota": spec.free_quota,
        "position": position,
        "request_schema": spec.request_schema,
        "response_schema": spec.response_schema,
        "streaming": spec.streaming,
    }


def _apply(instance: Service | Endpoint, values: dict[str, Any], fields: Iterable[str]) -> list[str]:
    """Set each of ``fields`` to its declared value unless an operator changed it; return what changed."""
    changed = []
    for name in fields:
        if name in instance.operator_fields:
            continue
        if getattr(instance, name) != values[name]:
            setattr(instance, name, values[name])
            changed.append(name)
    return changed


def _sync_default_price(endpoint: Endpoint, price_units: int, *, created: bool) -> None:
    """Follow the code's default price until an operator sets a price for the endpoint."""
    now = timezone.now()
    if created:
        EndpointPrice.objects.create(
            endpoint=endpoint, price_units=price_units, effective_from=now, source=EndpointPrice.Source.CODE
        )
        return
    if endpoint.prices.filter(source=EndpointPrice.Source.OPERATOR).exists():
        return
    current = endpoint.prices.filter(effective_from__lte=now).order_by("-effective_from").first()
    if current is None or current.price_units != price_units:
        EndpointPrice.objects.create(
            endpoint=endpoint,
            price_units=price_units,
            effective_from=now,
            source=EndpointPrice.Source.CODE,
            note="Default price changed in code.",
        )


def service_sync_builtin(*, spec: ServiceSpec) -> Service:
    """Bring a built-in service's catalog rows in line with its code.

    Precedence: code always sets the request and response schemas and the
    streaming flag, and adds the endpoints it declares. A field an operator
    has changed in admin (recorded in ``operator_fields``) is never
    overwritten; every other declared field follows the code. The status is
    set to published only when the service is first added. The default price
    is followed until an operator sets a price for that endpoint.
    """
    problems = _declaration_problems(spec)
    if problems:
        raise ValueError("Invalid built-in service declaration: " + " ".join(problems))

    with transaction.atomic():
        values = _declared_service_values(spec)
        service, created = Service.objects.get_or_create(
            slug=spec.slug,
            defaults={**values, "status": Service.Status.PUBLISHED, "backend": Service.Backend.BUILTIN},
        )
        changed = [] if created else _apply(service, values, SERVICE_DECLARED_FIELDS)
        if changed:
            service.save(update_fields=[*changed, "updated_at"])

        for position, endpoint_spec in enumerate(spec.endpoints):
            endpoint_values = _declared_endpoint_values(endpoint_spec, position)
            endpoint = Endpoint.objects.filter(service=service, name__iexact=endpoint_spec.name).first()
            endpoint_created = endpoint is None
            if endpoint is None:
                endpoint = Endpoint.objects.create(service=service, name=endpoint_spec.name, **endpoint_values)
            else:
                fields = [*ENDPOINT_DECLARED_FIELDS, *ENDPOINT_CODE_FIELDS]
                endpoint_changed = _apply(endpoint, endpoint_values, fields)
                if endpoint_changed:
                    endpoint.save(update_fields=endpoint_changed)
            _sync_default_price(endpoint, endpoint_spec.price_units, created=endpoint_created)

    if created:
        logger.info("Built-in service added to the catalog", service=spec.slug)
    elif changed:
        logger.info("Built-in service updated from code", service=spec.slug, fields=changed)
    return service


def operator_fields_record(*, instance: Service | Endpoint, changed: Iterable[str]) -> None:
    """Remember which declared fields an operator changed, so code never overwrites them."""
    declared = SERVICE_DECLARED_FIELDS if isinstance(instance, Service) else ENDPOINT_DECLARED_FIELDS
    added = sorted(set(changed) & set(declared) - set(instance.operator_fields))
    if not added:
        return
    instance.operator_fields = sorted({*instance.operator_fields, *added})
    type(instance).objects.filter(pk=instance.pk).update(operator_fields=instance.operator_fields)


def service_status_change(*, service: Service, status: str, changed_by: User | None) -> bool:
    """Publish, unpublish (back to draft) or deprecate a service; return whether anything changed.

    The gateway reads the status on every call, so the change applies to the next call.
    """
    if status not in Service.Status.values:
        raise ValidationError(f"Unknown status {status!r}; use one of {', '.join(Service.Status.values)}.")
    updated = Service.objects.filter(pk=service.pk).exclude(status=status).update(
        status=status, updated_at=timezone.now()
    )
    service.status = status
    if updated:
        catalog_changed()  # update() sends no signal; the gateway caches endpoints
        logger.info(
            "Service status changed",
            service=service.slug,
            status=status,
            user_id=changed_by.pk if changed_by else None,
        )
    return bool(updated)


def endpoint_price_schedule(
    *,
    endpoint: Endpoint,
    price_units: int,
    effective_from: datetime | None,
    created_by: User | None,
    note: str = "",
) -> EndpointPrice:
    """Add a price for ``endpoint`` from ``effective_from`` on (default now).

    Prices are never edited: each change is a new row, so the price any past
    call was charged stays on record.
    """
    now = timezone.now()
    effective_from = effective_from or now
    if price_units < 0:
        raise ValidationError({"price_units": f"The price must be 0 units or more, not {price_units}."})
    if effective_from < now - PRICE_BACKDATE_TOLERANCE:
        raise ValidationError(
            {"effective_from": "A price cannot start in the past, because past calls were charged already. "
             "Choose now or a later date."}
        )
    with transaction.atomic():
        if EndpointPrice.objects.filter(endpoint=endpoint, effective_from=effective_from).exists():
            raise ValidationError(
                {"effective_from": "Another price starts at exactly this time. Choose another time."}
            )
        price = EndpointPrice.objects.create(
            endpoint=endpoint,
            price_units=price_units,
            effective_from=effective_from,
            source=EndpointPrice.Source.OPERATOR,
            created_by=created_by,
            note=note,
        )
    logger.info(
        "Endpoint price scheduled",
        endpoint_id=endpoint.pk,
        price_units=price_units,
        effective_from=effective_from.isoformat(),
        user_id=created_by.pk if created_by else None,
    )
    return price


def upstream_credential_set(*, config: UpstreamConfig, credential: str) -> None:
    """Store an upstream credential encrypted; an empty string removes it."""
    config.credential_encrypted = crypto.encrypt(credential) if credential else ""
    config.credential_last4 = credential[-4:] if len(credential) >= 12 else ""
    config.save(update_fields=["credential_encrypted", "credential_last4"])
    logger.info("Upstream credential changed", service_id=config.service_id, removed=not credential)


class ExampleRejected(Exception):
    """Raised when an example does not match its endpoint's schemas. Its message lists the problems."""


def endpoint_example_add(*, endpoint: Endpoint, title: str, request: Any, response: Any) -> None:
    """Append an example (as saved from the playground by an operator); code sync keeps it from then on."""
    title = title.strip()[:200] or f"Example {len(endpoint.examples) + 1}"
    examples = [*endpoint.examples, {"title": title, "request": request, "response": response}]
    problems = examples_problems(
        examples, request_schema=endpoint.request_schema, response_schema=endpoint.response_schema
    )
    if problems:
        raise ExampleRejected("; ".join(problems))
    with transaction.atomic():
        endpoint.examples = examples
        endpoint.save(update_fields=["examples"])
        operator_fields_record(instance=endpoint, changed=["examples"])
    logger.info("Example added from the playground", endpoint_id=endpoint.pk, title=title)
