"""Export the catalog as one JSON document and import it into another environment.

An operator moves services, endpoints, prices and categories from staging to
production with ``manage.py catalog_export`` and ``manage.py catalog_import``.

What an import changes:
- Categories are matched by slug and take the file's name and position.
- Upstream services are created or updated to match the file, endpoints
  included; endpoints the file does not list are removed from them.
- Built-in services come from code, so only what an operator owns is taken
  from the file: the status, the fields listed in ``operator_fields`` and
  prices an operator set. A built-in service or endpoint this installation's
  code does not have is skipped with a warning.
- Prices are never rewritten into the past, because past calls were charged at
  the old price. Where the file's current price differs from this
  environment's, the file's price starts now. Future prices are made to
  match the file's: they have not been charged yet.
- Upstream credentials are never exported. An imported upstream service keeps
  the credential it already has here; a new one needs its credential entered
  in admin before calls succeed.

The whole import runs in one transaction: a file with any problem changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Category, Endpoint, EndpointPrice, Service, UpstreamConfig
from catalog.services import ENDPOINT_DECLARED_FIELDS, SERVICE_DECLARED_FIELDS, operator_fields_record
from catalog.validation import SchemaValidator, examples_problems, schema_problems

FORMAT = "m3o.catalog"
VERSION = 1

SERVICE_FIELDS = ("name", "tagline", "description", "icon", "status", "backend")
ENDPOINT_FIELDS = (
    "description",
    "request_schema",
    "response_schema",
    "examples",
    "free_quota",
    "streaming",
    "position",
    "upstream_method",
    "upstream_path",
)
UPSTREAM_FIELDS = (
    "base_url",
    "credential_placement",
    "credential_name",
    "credential_prefix",
    "connect_timeout_ms",
    "read_timeout_ms",
)

_STRING = {"type": "string"}
_NAME_LIST = {"type": "array", "items": _STRING}
_PRICE = {
    "type": "object",
    "properties": {
        # The admin's price form allows the same; a larger figure would overflow the database column.
        "price_units": {"type": "integer", "minimum": 0, "maximum": 10**15},
        "effective_from": {"type": "string", "format": "date-time"},
        "source": {"enum": list(EndpointPrice.Source.values)},
        "note": _STRING,
    },
    "required": ["price_units", "effective_from", "source"],
}
_ENDPOINT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"},
        "description": _STRING,
        "request_schema": {"type": "object"},
        "response_schema": {"type": "object"},
        "examples": {"type": "array"},
        "free_quota": {"type": "integer", "minimum": 0},
        "streaming": {"type": "boolean"},
        "position": {"type": "integer", "minimum": 0, "maximum": 32_767},
        "upstream_method": _STRING,
        "upstream_path": _STRING,
        "operator_fields": _NAME_LIST,
        "prices": {"type": "array", "items": _PRICE},
    },
    "required": ["name", "request_schema", "response_schema", "prices"],
}
_UPSTREAM = {
    "type": "object",
    "properties": {
        "base_url": {"type": "string", "minLength": 1, "maxLength": 500},
        "credential_placement": {"enum": list(UpstreamConfig.Placement.values)},
        "credential_name": _STRING,
        "credential_prefix": _STRING,
        "connect_timeout_ms": {"type": "integer", "minimum": 100, "maximum": 60_000},
        "read_timeout_ms": {"type": "integer", "minimum": 100, "maximum": 300_000},
    },
    "required": ["base_url"],
}
_SERVICE = {
    "type": "object",
    "properties": {
        "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "tagline": {"type": "string", "maxLength": 200},
        "description": _STRING,
        "category": {"type": ["string", "null"]},
        "icon": {"type": "string", "maxLength": 64},
        "status": {"enum": list(Service.Status.values)},
        "backend": {"enum": list(Service.Backend.values)},
        "operator_fields": _NAME_LIST,
        "upstream": {"oneOf": [{"type": "null"}, _UPSTREAM]},
        "endpoints": {"type": "array", "items": _ENDPOINT},
    },
    "required": ["slug", "name", "status", "backend", "endpoints"],
}
DOCUMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "categories": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]{1,64}$"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 64},
                    "position": {"type": "integer", "minimum": 0, "maximum": 32_767},
                },
                "required": ["slug", "name"],
            },
        },
        "services": {"type": "array", "items": _SERVICE},
    },
    "required": ["format", "version", "categories", "services"],
}


class CatalogImportError(Exception):
    """Raised when an import file cannot be applied; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    """The changes an import made, or would make in a dry run."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def catalog_export() -> dict[str, Any]:
    """Return the whole catalog as one JSON-serialisable document, without credentials."""
    services = (
        Service.objects.select_related("category", "upstream")
        .prefetch_related("endpoints__prices")
        .order_by("slug")
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "categories": [
            {"slug": category.slug, "name": category.name, "position": category.position}
            for category in Category.objects.order_by("slug")
        ],
        "services": [_service_document(service) for service in services],
    }


def _service_document(service: Service) -> dict[str, Any]:
    document: dict[str, Any] = {name: getattr(service, name) for name in ("slug", *SERVICE_FIELDS)}
    document["category"] = service.category.slug if service.category else None
    document["operator_fields"] = sorted(service.operator_fields)
    upstream = getattr(service, "upstream", None) if service.backend == Service.Backend.UPSTREAM else None
    document["upstream"] = {name: getattr(upstream, name) for name in UPSTREAM_FIELDS} if upstream else None
    document["endpoints"] = [
        {
            "name": endpoint.name,
            **{name: getattr(endpoint, name) for name in ENDPOINT_FIELDS},
            "operator_fields": sorted(endpoint.operator_fields),
            "prices": [
                {
                    "price_units": price.price_units,
                    "effective_from": price.effective_from.isoformat(),
                    "source": price.source,
                    "note": price.note,
                }
                for price in sorted(endpoint.prices.all(), key=lambda price: price.effective_from)
            ],
        }
        for endpoint in sorted(service.endpoints.all(), key=lambda endpoint: (endpoint.position, endpoint.name))
    ]
    return document


def catalog_import(document: Any, *, dry_run: bool = False) -> ImportReport:
    """Apply an exported catalog document; raise CatalogImportError, changing nothing, if any part is invalid."""
    problems = _document_problems(document)
    if problems:
        raise CatalogImportError(problems)
    report = ImportReport()
    with transaction.atomic():
        importer = _Importer(report=report, now=timezone.now())
        categories = importer.categories(document["categories"])
        for service in document["services"]:
            importer.service(service, categories)
        if importer.problems:
            raise CatalogImportError(importer.problems)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _document_problems(document: Any) -> list[str]:
    validator = SchemaValidator(DOCUMENT_SCHEMA, format_checker=SchemaValidator.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path)):
        location = ".".join(str(part) for part in error.absolute_path) or "(document)"
        problems.append(f"At {location}: {error.message}")
    if problems:
        return problems
    slugs = [service["slug"] for service in document["services"]]
    duplicated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicated:
        problems.append(f"Services listed twice: {', '.join(duplicated)}.")
    for service in document["services"]:
        if service["backend"] == Service.Backend.UPSTREAM and not service.get("upstream"):
            problems.append(f"Upstream service {service['slug']} has no upstream settings.")
        names = [endpoint["name"].lower() for endpoint in service["endpoints"]]
        if len(names) != len(set(names)):
            problems.append(f"Service {service['slug']} lists an endpoint name twice.")
    return problems


class _Importer:
    def __init__(self, *, report: ImportReport, now: datetime) -> None:
        self.report = report
        self.now = now
        self.problems: list[str] = []

    def categories(self, documents: list[dict[str, Any]]) -> dict[str, Category]:
        categories = {category.slug: category for category in Category.objects.all()}
        for document in documents:
            values = {"name": document["name"], "position": document.get("position", 0)}
            name_owner = Category.objects.filter(name=values["name"]).exclude(slug=document["slug"]).first()
            if name_owner:
                self.problems.append(f"Category name {values['name']!r} is used here by category {name_owner.slug}.")
                continue
            category = categories.get(document["slug"])
            if category is None:
                categories[document["slug"]] = Category.objects.create(slug=document["slug"], **values)
                self.report.created.append(f"category {document['slug']}")
            elif _assign(category, values):
                category.save()
                self.report.updated.append(f"category {document['slug']}")
        return categories

    def service(self, document: dict[str, Any], categories: dict[str, Category]) -> None:
        slug = document["slug"]
        category = categories.get(document["category"]) if document.get("category") else None
        if document.get("category") and category is None:
            self.problems.append(f"Service {slug} names category {document['category']}, which the file does not list.")
            return
        existing = Service.objects.filter(slug=slug).first()
        if existing is not None and existing.backend != document["backend"]:
            self.problems.append(
                f"Service {slug} is {existing.backend} here but {document['backend']} in the file; "
                "rename one of them before importing."
            )
            return
        if document["backend"] == Service.Backend.BUILTIN:
            self._builtin_service(existing, document, category)
        else:
            self._upstream_service(existing, document, category)

    def _builtin_service(self, service: Service | None, document: dict[str, Any], category: Category | None) -> None:
        slug = document["slug"]
        if service is None:
            self.report.warnings.append(f"Skipped built-in service {slug}: this installation's code does not have it.")
            return
        owned = [name for name in document.get("operator_fields", []) if name in SERVICE_DECLARED_FIELDS]
        values = {name: (category if name == "category" else document.get(name, "")) for name in owned}
        values["status"] = document["status"]
        if _assign(service, values):
            service.save()
            operator_fields_record(instance=service, changed=owned)
            self.report.updated.append(f"service {slug}")
        for endpoint_document in document["endpoints"]:
            endpoint = service.endpoints.filter(name__iexact=endpoint_document["name"]).first()
            label = f"{slug}/{endpoint_document['name']}"
            if endpoint is None:
                self.report.warnings.append(f"Skipped endpoint {label}: this installation's code does not have it.")
                continue
            owned = [name for name in endpoint_document.get("operator_fields", []) if name in ENDPOINT_DECLARED_FIELDS]
            values = {name: endpoint_document[name] for name in owned if name in endpoint_document}
            if "examples" in values:
                self._check_examples(label, values["examples"], endpoint.request_schema, endpoint.response_schema)
            if _assign(endpoint, values):
                endpoint.save()
                operator_fields_record(instance=endpoint, changed=list(values))
                self.report.updated.append(f"endpoint {label}")
            operator_prices = [
                price for price in endpoint_document["prices"] if price["source"] == EndpointPrice.Source.OPERATOR
            ]
            if operator_prices:
                self._prices(endpoint, operator_prices, label)

    def _upstream_service(self, service: Service | None, document: dict[str, Any], category: Category | None) -> None:
        slug = document["slug"]
        values: dict[str, Any] = {name: document.get(name, "") for name in SERVICE_FIELDS}
        values["category"] = category
        if service is None:
            service = Service.objects.create(slug=slug, **values)
            self.report.created.append(f"service {slug}")
        elif _assign(service, values):
            service.save()
            self.report.updated.append(f"service {slug}")

        upstream_values = {name: document["upstream"][name] for name in UPSTREAM_FIELDS if name in document["upstream"]}
        config = UpstreamConfig.objects.filter(service=service).first()
        if config is None:
            config = UpstreamConfig(service=service)
            self.report.warnings.append(f"Enter the upstream credential of service {slug} in admin, if it needs one.")
        if _assign(config, upstream_values) or config.pk is None:
            if self._clean(config, f"upstream settings of {slug}"):
                config.save()

        imported_ids = []
        for position, endpoint_document in enumerate(document["endpoints"]):
            label = f"{slug}/{endpoint_document['name']}"
            endpoint_values = {name: endpoint_document[name] for name in ENDPOINT_FIELDS if name in endpoint_document}
            endpoint_values.setdefault("position", position)
            if not self._check_endpoint(label, endpoint_values, endpoint_document):
                continue
            endpoint = service.endpoints.filter(name__iexact=endpoint_document["name"]).first()
            created = endpoint is None
            if endpoint is None:
                endpoint = Endpoint(service=service)
            if _assign(endpoint, {"name": endpoint_document["name"], **endpoint_values}):
                if not self._clean(endpoint, f"endpoint {label}"):
                    continue
                endpoint.save()
                (self.report.created if created else self.report.updated).append(f"endpoint {label}")
            imported_ids.append(endpoint.pk)
            self._prices(endpoint, endpoint_document["prices"], label)
        for endpoint in service.endpoints.exclude(pk__in=imported_ids):
            self.report.removed.append(f"endpoint {slug}/{endpoint.name}")
            endpoint.delete()

    def _check_endpoint(self, label: str, values: dict[str, Any], document: dict[str, Any]) -> bool:
        before = len(self.problems)
        self.problems.extend(schema_problems(values["request_schema"], label=f"request schema of {label}"))
        self.problems.extend(schema_problems(values["response_schema"], label=f"response schema of {label}"))
        if not document["prices"]:
            self.problems.append(f"Endpoint {label} has no price; give it at least one.")
        if len(self.problems) == before:
            self._check_examples(label, values.get("examples", []), values["request_schema"], values["response_schema"])
        return len(self.problems) == before

    def _clean(self, instance: Any, label: str) -> bool:
        """Run the model's field checks; record a problem and return False where they fail."""
        try:
            instance.full_clean(exclude=["service"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.problems.append(f"The {label} has an invalid {name}: {' '.join(messages)}")
            return False
        return True

    def _check_examples(self, label: str, examples: Any, request_schema: dict, response_schema: dict) -> None:
        problems = examples_problems(examples, request_schema=request_schema, response_schema=response_schema)
        self.problems.extend(f"Endpoint {label}: {problem}" for problem in problems)

    def _prices(self, endpoint: Endpoint, prices: list[dict[str, Any]], label: str) -> None:
        """Bring the file's current and future prices over without rewriting any past price."""
        dated = sorted(
            ((datetime.fromisoformat(price["effective_from"]), price) for price in prices), key=lambda pair: pair[0]
        )
        past = [price for start, price in dated if start <= self.now]
        future = [(start, price) for start, price in dated if start > self.now]
        current_here = endpoint.prices.filter(effective_from__lte=self.now).order_by("-effective_from").first()
        if past and (current_here is None or current_here.price_units != past[-1]["price_units"]):
            self._add_price(endpoint, self.now, past[-1], label)
        elif not past and current_here is None and future:
            self.problems.append(f"Endpoint {label} has only future prices; give it a current price too.")
        # Prices scheduled here but not in the file have not taken effect, so dropping them rewrites nothing.
        unlisted = endpoint.prices.filter(effective_from__gt=self.now).exclude(
            effective_from__in=[start for start, _ in future]
        )
        for price in unlisted:
            self.report.removed.append(f"price of {label} from {price.effective_from.isoformat()}")
            price.delete()
        for start, price in future:
            if not endpoint.prices.filter(effective_from=start, price_units=price["price_units"]).exists():
                endpoint.prices.filter(effective_from=start).delete()
                self._add_price(endpoint, start, price, label)

    def _add_price(self, endpoint: Endpoint, start: datetime, price: dict[str, Any], label: str) -> None:
        EndpointPrice.objects.create(
            endpoint=endpoint,
            price_units=price["price_units"],
            effective_from=start,
            source=EndpointPrice.Source.OPERATOR,
            note="Imported from a catalog export.",
        )
        self.report.prices.append(f"{label}: {price['price_units']} units from {start.isoformat()}")


def _assign(instance: Any, values: dict[str, Any]) -> bool:
    """Set the given attributes; return whether any of them changed."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed
