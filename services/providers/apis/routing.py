"""routing: driving routes and turn-by-turn directions between two points, from OSRM."""

from __future__ import annotations

from typing import Any

from catalog.services import EndpointSpec
from services.providers.base import Adapter, Mapping, ProviderRequest, ProviderService
from services.providers.dispatch import provider_service_register
from services.providers.schema import array, number, obj, response, string

POINT_IN = obj(
    {
        "latitude": number("Latitude in degrees.", minimum=-90, maximum=90),
        "longitude": number("Longitude in degrees.", minimum=-180, maximum=180),
    },
    required=["latitude", "longitude"],
)
POINT = response({"latitude": number("Latitude in degrees."), "longitude": number("Longitude in degrees.")})
REQUEST = obj({"origin": POINT_IN, "destination": POINT_IN}, required=["origin", "destination"])
TOTALS = {"distance": number("Length in metres."), "duration": number("Driving time in seconds.")}
DIRECTION = response(
    {
        "instruction": string("What to do, such as Turn left onto Main Street."),
        "name": string("Road of this step; may be empty."),
        "distance": number("Length of the step in metres."),
        "duration": number("Driving time of the step in seconds."),
        "maneuver": response(
            {
                "action": string("Kind of manoeuvre: depart, turn, arrive, roundabout, …"),
                "direction": string("Direction of the manoeuvre, such as left; may be empty."),
                "location": POINT,
            }
        ),
    }
)

ORIGIN = {"latitude": 51.5033, "longitude": -0.1276}
DESTINATION = {"latitude": 51.5007, "longitude": -0.1246}
WAYPOINTS = [
    {"latitude": 51.5033, "longitude": -0.1276},
    {"latitude": 51.5031, "longitude": -0.1262},
    {"latitude": 51.5007, "longitude": -0.1246},
]
DIRECTIONS = [
    {"instruction": "Depart on Downing Street", "name": "Downing Street", "distance": 120.4, "duration": 30.2,
     "maneuver": {"action": "depart", "direction": "", "location": WAYPOINTS[0]}},
    {"instruction": "Turn right onto Whitehall", "name": "Whitehall", "distance": 240.0, "duration": 48.0,
     "maneuver": {"action": "turn", "direction": "right", "location": WAYPOINTS[1]}},
    {"instruction": "Arrive at Bridge Street", "name": "Bridge Street", "distance": 0.0, "duration": 0.0,
     "maneuver": {"action": "arrive", "direction": "", "location": WAYPOINTS[2]}},
]

ENDPOINTS = [
    EndpointSpec(
        name="Route",
        description="The driving route between two points: the points along it, its length and its time.",
        request_schema=REQUEST,
        response_schema=response({**TOTALS, "waypoints": array(POINT, "Points along the route, from start to end.")}),
        price_units=2_000,
        examples=[{"title": "Downing Street to Westminster Bridge",
                   "request": {"origin": ORIGIN, "destination": DESTINATION},
                   "response": {"distance": 360.4, "duration": 78.2, "waypoints": WAYPOINTS}}],
    ),
    EndpointSpec(
        name="Directions",
        description="Turn-by-turn driving directions between two points.",
        request_schema=REQUEST,
        response_schema=response({**TOTALS, "directions": array(DIRECTION, "The steps, in order.")}),
        price_units=2_000,
        examples=[{"title": "Directions from Downing Street to Westminster Bridge",
                   "request": {"origin": ORIGIN, "destination": DESTINATION},
                   "response": {"distance": 360.4, "duration": 78.2, "directions": DIRECTIONS}}],
    ),
]


def _point(location: list[float]) -> dict[str, float]:
    return {"latitude": location[1], "longitude": location[0]}


def _request(body: dict[str, Any], *, steps: bool) -> ProviderRequest:
    origin, destination = body["origin"], body["destination"]
    coordinates = f"{origin['longitude']},{origin['latitude']};{destination['longitude']},{destination['latitude']}"
    # Route needs the route's shape as GeoJSON points; Directions needs the steps instead.
    shape = {"overview": "false"} if steps else {"overview": "full", "geometries": "geojson"}
    return ProviderRequest(
        path=f"/route/v1/driving/{coordinates}",
        params={**shape, "steps": "true" if steps else "false", "alternatives": "false"},
    )


def _instruction(step: dict[str, Any]) -> str:
    maneuver, name = step["maneuver"], step.get("name", "")
    action, direction = maneuver["type"], maneuver.get("modifier", "")
    if action == "depart":
        return f"Depart on {name}" if name else "Depart"
    if action == "arrive":
        return f"Arrive at {name}" if name else "Arrive at the destination"
    words = " ".join(part for part in (action.replace("_", " ").capitalize(), direction) if part)
    return f"{words} onto {name}" if name else words


def _totals(payload: Any) -> dict[str, Any]:
    route = payload["routes"][0]
    return {"distance": round(route["distance"], 1), "duration": round(route["duration"], 1)}


def _route_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    coordinates = payload["routes"][0]["geometry"]["coordinates"]
    return {**_totals(payload), "waypoints": [_point(location) for location in coordinates]}


def _directions_response(payload: Any, body: dict[str, Any]) -> dict[str, Any]:
    directions = [
        {
            "instruction": _instruction(step),
            "name": step.get("name", ""),
            "distance": round(step["distance"], 1),
            "duration": round(step["duration"], 1),
            "maneuver": {
                "action": step["maneuver"]["type"],
                "direction": step["maneuver"].get("modifier", ""),
                "location": _point(step["maneuver"]["location"]),
            },
        }
        for leg in payload["routes"][0]["legs"]
        for step in leg["steps"]
    ]
    return {**_totals(payload), "directions": directions}


OSRM = Adapter(
    name="osrm",
    title="OSRM",
    base_urls={"default": "https://router.project-osrm.org"},
    credential_help="No key needed; the demo server is for light use, so point the base URL at your own.",
    endpoints={
        "Route": Mapping(request=lambda body: _request(body, steps=False), response=_route_response),
        "Directions": Mapping(request=lambda body: _request(body, steps=True), response=_directions_response),
    },
)

SERVICE = provider_service_register(
    service=ProviderService(slug="routing", title="Routing", adapters=[OSRM],
                            public_data=frozenset({"Route", "Directions"})),
    spec={
        "name": "Routing",
        "tagline": "Driving routes and turn-by-turn directions.",
        "description": "The driving distance and time between two points, and the directions to follow.",
        "category": "Location",
        "icon": "🧭",
    },
    endpoints=ENDPOINTS,
)
