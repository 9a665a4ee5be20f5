from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime
from typing import Any

from services.kit import BadRequest, CallContext


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    """Map lower-cased IANA zone names (``europe/london``) to their canonical spelling."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@functools.cache
def _zones_by_city() -> dict[str, str]:
    """Map lower-cased city names (``london``, ``new york``) to an IANA zone name.

    Only the last part of each zone name counts, so a city is found only if
    the IANA database has a zone named after it. Legacy aliases (``US/Eastern``,
    ``Etc/GMT+5``) are skipped so canonical zones win.
    """
    cities: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if "/" not in name or name.split("/")[0] in {"Etc", "SystemV", "US", "Canada", "Brazil", "Mexico", "Chile"}:
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        cities.setdefault(city, name)
    return cities


def resolve_zone(body: dict[str, Any]) -> tuple[str, zoneinfo.ZoneInfo]:
    """Return (location, zone) for a request with an IANA ``zone`` or a city ``location``, or UTC if neither is set."""
    zone_name = body.get("zone", "").strip()
    location = body.get("location", "").strip()

    if zone_name:
        canonical = _zones_by_lower_name().get(zone_name.lower())
        if canonical is None:
            raise BadRequest(
                f"Unknown time zone {zone_name!r}. Use an IANA name such as Europe/London.",
                error_id="time.unknown_zone",
                fields={"zone": "Unknown IANA time zone."},
            )
        return location or canonical.rsplit("/", 1)[-1].replace("_", " "), zoneinfo.ZoneInfo(canonical)

    if location:
        canonical = _zones_by_city().get(location.replace("_", " ").lower())
        if canonical is None:
            raise BadRequest(
                f"No time zone is known for the location {location!r}. Use a city that names an IANA zone "
                "(London, New York, Tokyo) or pass zone instead.",
                error_id="time.unknown_location",
                fields={"location": "No IANA zone is named after this city."},
            )
        return location, zoneinfo.ZoneInfo(canonical)

    return "UTC", zoneinfo.ZoneInfo("UTC")


def _offset_minutes(moment: datetime) -> int:
    offset = moment.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def now(context: CallContext) -> dict[str, Any]:
    location, zone = resolve_zone(context.body)
    moment = datetime.now(UTC).astimezone(zone)
    return {
        "location": location,
        "timezone": zone.key,
        "localtime": moment.strftime("%H:%M:%S"),
        "timestamp": moment.isoformat(timespec="seconds"),
        "unix": int(moment.timestamp()),
    }


def zone(context: CallContext) -> dict[str, Any]:
    location, time_zone = resolve_zone(context.body)
    moment = datetime.now(UTC).astimezone(time_zone)
    dst = moment.dst()
    return {
        "location": location,
        "timezone": time_zone.key,
        "abbreviation": moment.tzname() or "",
        "offset": _offset_minutes(moment),
        "dst": bool(dst),
    }
