"""The registry of built-in services.

Each package under ``services/builtin/`` builds a ``BuiltinService`` and calls
``register`` when imported; ``autodiscover`` imports them all at start-up, so
adding a service needs no change to the gateway.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.services import EndpointSpec, ServiceSpec, service_sync_builtin
from services.kit import BadRequest, CallContext

Handler = Callable[[CallContext], dict[str, Any]]
# A stream endpoint yields its messages; the streaming transport (services/streaming)
# sends each one as a JSON frame and charges the endpoint's price per message sent.
StreamHandler = Callable[[CallContext], AsyncIterator[dict[str, Any]]]


def stream_only(context: CallContext) -> dict[str, Any]:
    """The call handler of a stream endpoint, reached only by a request the streams process did not serve."""
    raise BadRequest(
        f"{context.service}/{context.endpoint} is a stream. Open it as a WebSocket on this path, or POST "
        "with 'Accept: application/x-ndjson' to the streams process.",
        error_id="v1.stream_endpoint",
    )


@dataclass(frozen=True, kw_only=True)
class BuiltinEndpoint(EndpointSpec):
    handler: Handler = stream_only
    stream: StreamHandler | None = None

    def __post_init__(self) -> None:
        if (self.stream is not None) != self.streaming:
            raise ValueError(f"Endpoint {self.name!r}: set stream exactly when streaming is true.")


@dataclass(frozen=True, kw_only=True)
class BuiltinService(ServiceSpec):
    endpoints: Sequence[BuiltinEndpoint]
    # Deletes everything the service stores for an account, called when the account is closed.
    purge_account: Callable[[int], None] | None = None

    def endpoint(self, name: str) -> BuiltinEndpoint | None:
        lowered = name.lower()
        return next((endpoint for endpoint in self.endpoints if endpoint.name.lower() == lowered), None)


_services: dict[str, BuiltinService] = {}


def register(service: BuiltinService) -> BuiltinService:
    if service.slug != service.slug.lower():
        raise ValueError(f"Built-in service slug {service.slug!r} must be lower-case.")
    if service.slug in _services and _services[service.slug] is not service:
        raise ValueError(f"Built-in service {service.slug!r} is registered twice.")
    _services[service.slug] = service
    return service


def get(slug: str) -> BuiltinService | None:
    return _services.get(slug.lower())


def all_services() -> list[BuiltinService]:
    return sorted(_services.values(), key=lambda service: service.slug)


def autodiscover() -> None:
    from services import builtin

    for module in pkgutil.iter_modules(builtin.__path__):
        if module.ispkg:
            importlib.import_module(f"{builtin.__name__}.{module.name}")


def sync_catalog() -> None:
    for service in all_services():
        service_sync_builtin(spec=service)


def purge_account(account_id: int) -> None:
    for service in all_services():
        if service.purge_account is not None:
            service.purge_account(account_id)
