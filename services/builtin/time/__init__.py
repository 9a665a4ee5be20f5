"""time: the current time and UTC offset of any IANA time zone."""

from __future__ import annotations

from services.builtin.time.handlers import now, zone
from services.registry import BuiltinEndpoint, BuiltinService, register

REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "location": {
            "type": "string",
            "maxLength": 100,
            "description": "A city that names an IANA zone, such as London or New York. Ignored for the lookup if zone is set.",
        },
        "zone": {"type": "string", "maxLength": 100, "description": "An IANA time zone name, such as Europe/London."},
    },
    "additionalProperties": False,
}

SERVICE = register(
    BuiltinService(
        slug="time",
        name="Time",
        tagline="Current time, UTC offset and daylight saving for any time zone.",
        description=(
            "Returns the current time in a time zone from the IANA time zone database, found by zone "
            "name (Europe/London) or by a city that names a zone (London). Without either, UTC is used."
        ),
        category="Developer tools",
        icon="🕰️",
        endpoints=[
            BuiltinEndpoint(
                name="Now",
                handler=now,
                description="Get the current time in a location or time zone.",
                request_schema=REQUEST_SCHEMA,
                response_schema={
                    "type": "object",
                    "properties": {
                        "location": {"type": "string"},
                        "timezone": {"type": "string", "description": "The IANA zone name."},
                        "localtime": {"type": "string", "description": "Local wall-clock time, HH:MM:SS."},
                        "timestamp": {"type": "string", "description": "Local time in RFC 3339 with its offset."},
                        "unix": {"type": "integer", "description": "Seconds since the Unix epoch."},
                    },
                    "required": ["location", "timezone", "localtime", "timestamp", "unix"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "Time in London",
                        "request": {"location": "London"},
                        "response": {
                            "location": "London",
                            "timezone": "Europe/London",
                            "localtime": "21:30:00",
                            "timestamp": "2026-12-04T21:30:00+00:00",
                            "unix": 1796506200,
                        },
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Zone",
                handler=zone,
                description="Get the UTC offset, abbreviation and daylight saving flag of a location or time zone.",
                request_schema=REQUEST_SCHEMA,
                response_schema={
                    "type": "object",
                    "properties": {
                        "location": {"type": "string"},
                        "timezone": {"type": "string", "description": "The IANA zone name."},
                        "abbreviation": {"type": "string", "description": "The zone abbreviation in force now, such as BST."},
                        "offset": {"type": "integer", "description": "The UTC offset in force now, in minutes."},
                        "dst": {"type": "boolean", "description": "Whether daylight saving time is in force now."},
                    },
                    "required": ["location", "timezone", "abbreviation", "offset", "dst"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "New York's zone",
                        "request": {"zone": "America/New_York"},
                        "response": {
                            "location": "New York",
                            "timezone": "America/New_York",
                            "abbreviation": "EST",
                            "offset": -300,
                            "dst": False,
                        },
                    }
                ],
            ),
        ],
    )
)
