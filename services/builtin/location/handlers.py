from __future__ import annotations

import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from services.builtin.location.geo import bounding_box, distance_m
from services.builtin.location.models import Entity
from services.builtin.quota import check_room
from services.kit import CallContext, NotFound

# A margin in degrees around the SQL box, so that floating-point rounding never drops a point on its edge.
BOX_MARGIN = 1e-9


def _error_id(context: CallContext) -> str:
    return f"location.{context.endpoint.lower()}"


def _entities(context: CallContext) -> QuerySet[Entity]:
    return Entity.objects.filter(account_id=context.account_id)


def save(context: CallContext) -> dict[str, Any]:
    """Save an entity's position, replacing the one saved before under its id."""
    entity = context.body["entity"]
    point = entity["location"]
    values = {
        "type": entity.get("type", ""),
        "latitude": float(point["latitude"]),
        "longitude": float(point["longitude"]),
        "timestamp": point.get("timestamp", int(time.time())),
    }

    with transaction.atomic():
        if not _entities(context).filter(entity_id=entity["id"]).update(**values):
            check_room(account_id=context.account_id, service="location", stored=_entities(context).count())
            try:
                with transaction.atomic():
                    Entity.objects.create(account_id=context.account_id, entity_id=entity["id"], **values)
            except IntegrityError:
                # A concurrent Save created the entity first; this one wins as the later write.
                _entities(context).filter(entity_id=entity["id"]).update(**values)
    return {"entity": _entities(context).get(entity_id=entity["id"]).as_dict()}


def read(context: CallContext) -> dict[str, Any]:
    entity = _entities(context).filter(entity_id=context.body["id"]).first()
    if entity is None:
        raise NotFound(f"No entity with id {context.body['id'][:100]!r}.", error_id=_error_id(context))
    return {"entity": entity.as_dict()}


def search(context: CallContext) -> dict[str, Any]:
    """Find entities within a radius of a point, nearest first.

    The database narrows the candidates to the circle's bounding box (an indexed range
    query on every backend); the exact great-circle distance then decides.
    """
    center = context.body["center"]
    lat, lon = float(center["latitude"]), float(center["longitude"])
    radius = float(context.body["radius"])
    limit = context.body.get("numEntities", 10)

    box = bounding_box(lat, lon, radius)
    candidates = _entities(context).filter(
        latitude__gte=box.min_lat - BOX_MARGIN, latitude__lte=box.max_lat + BOX_MARGIN
    )
    if box.lon_ranges:
        in_range = Q()
        for west, east in box.lon_ranges:
            in_range |= Q(longitude__gte=west - BOX_MARGIN, longitude__lte=east + BOX_MARGIN)
        candidates = candidates.filter(in_range)
    if context.body.get("type"):
        candidates = candidates.filter(type=context.body["type"])

    found = []
    for entity in candidates.only("entity_id", "type", "latitude", "longitude", "timestamp"):
        distance = distance_m(lat, lon, entity.latitude, entity.longitude)
        if distance <= radius:
            found.append((distance, entity.entity_id, entity))
    found.sort(key=lambda row: (row[0], row[1]))
    return {"entities": [{**entity.as_dict(), "distance": round(distance, 3)} for distance, _, entity in found[:limit]]}


def purge_account(account_id: int) -> None:
    Entity.objects.filter(account_id=account_id).delete()
