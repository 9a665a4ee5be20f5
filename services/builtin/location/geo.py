"""Great-circle distances and the latitude/longitude box that contains a circle, on a spherical Earth."""

from __future__ import annotations

import math
from dataclasses import dataclass

# The mean Earth radius (IUGG), in metres; the spherical model is within 0.5% of the ellipsoid.
EARTH_RADIUS_M = 6_371_008.8
# Half the Earth's circumference: no two points are farther apart.
MAX_DISTANCE_M = math.pi * EARTH_RADIUS_M


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Compute the haversine great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Box:
    """Every point within the radius lies in the latitude band and in one of the longitude ranges."""

    min_lat: float
    max_lat: float
    # One range, or two when the box crosses the antimeridian; empty means every longitude.
    lon_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lon: float, radius_m: float) -> Box:
    angular = radius_m / EARTH_RADIUS_M
    min_lat = math.degrees(math.radians(lat) - angular)
    max_lat = math.degrees(math.radians(lat) + angular)
    if min_lat <= -90 or max_lat >= 90 or angular >= math.pi / 2:
        # The circle reaches a pole, so it spans every longitude.
        return Box(max(min_lat, -90.0), min(max_lat, 90.0), ())

    # The widest longitude offset of the circle, reached north or south of its centre.
    dlon = math.degrees(math.asin(math.sin(angular) / math.cos(math.radians(lat))))
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return Box(min_lat, max_lat, ((west + 360, 180.0), (-180.0, east)))
    if east > 180:
        return Box(min_lat, max_lat, ((west, 180.0), (-180.0, east - 360)))
    return Box(min_lat, max_lat, ((west, east),))
