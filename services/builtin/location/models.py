from __future__ import annotations

from typing import Any

from django.db import models


class Entity(models.Model):
    """The last saved position of one of the caller's entities (a driver, a parcel, a shop)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    entity_id = models.CharField(max_length=256)
    type = models.CharField(max_length=256, blank=True)
    # WGS 84 degrees; the database keeps them in range whatever the caller sends.
    latitude = models.FloatField()
    longitude = models.FloatField()
    # Unix seconds of the position, as given by the caller or the time it was saved.
    timestamp = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "entity_id"], name="builtin_location_unique_entity"),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="builtin_location_coordinates_in_range",
            ),
        ]
        # Search filters by account and a latitude band first, then by longitude and type.
        indexes = [models.Index(fields=["account", "latitude", "longitude"], name="builtin_location_box")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.entity_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.entity_id,
            "type": self.type,
            "location": {"latitude": self.latitude, "longitude": self.longitude, "timestamp": self.timestamp},
        }
