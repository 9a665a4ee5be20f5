"""The location service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.location import handlers
from services.builtin.location.geo import MAX_DISTANCE_M
from services.builtin.schemas import request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

ENTITY_ID = {"type": "string", "minLength": 1, "maxLength": 256, "description": "The entity's id."}
TYPE = {"type": "string", "maxLength": 256, "description": "A type of your choice, such as driver or shop."}
LATITUDE = {"type": "number", "minimum": -90, "maximum": 90, "description": "Degrees north, -90 to 90."}
LONGITUDE = {"type": "number", "minimum": -180, "maximum": 180, "description": "Degrees east, -180 to 180."}
TIMESTAMP = {"type": "integer", "minimum": 0, "maximum": 253_402_300_799, "description": "Unix seconds of the position."}
POINT_RESPONSE = response_object(
    {"latitude": {"type": "number"}, "longitude": {"type": "number"}, "timestamp": {"type": "integer"}}
)
ENTITY = response_object({"id": {"type": "string"}, "type": {"type": "string"}, "location": POINT_RESPONSE})
FOUND = response_object(
    {
        "id": {"type": "string"},
        "type": {"type": "string"},
        "location": POINT_RESPONSE,
        "distance": {"type": "number", "description": "Metres from the centre."},
    }
)
EXAMPLE_ENTITY = {
    "id": "bike-17",
    "type": "bike",
    "location": {"latitude": 51.5074, "longitude": -0.1278, "timestamp": 1767268800},
}

SERVICE = register(
    BuiltinService(
        slug="location",
        name="Location",
        tagline="Save where things are and find them nearby.",
        description=(
            "Save the latest position of your entities (vehicles, couriers, shops) and find the ones within "
            "a radius of a point, nearest first, by great-circle distance."
        ),
        category="Geography",
        icon="📍",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Save",
                handler=handlers.save,
                description="Save an entity's position, replacing the previous one for its id.",
                request_schema=request_object(
                    {
                        "entity": {
                            **request_object(
                                {
                                    "id": ENTITY_ID,
                                    "type": TYPE,
                                    "location": request_object(
                                        {"latitude": LATITUDE, "longitude": LONGITUDE, "timestamp": TIMESTAMP},
                                        ["latitude", "longitude"],
                                    ),
                                },
                                ["id", "location"],
                            ),
                            "description": "The entity and where it is.",
                        }
                    },
                    ["entity"],
                ),
                response_schema=response_object({"entity": ENTITY}),
                price_units=100,
                examples=[
                    {
                        "title": "Save a bike's position",
                        "request": {"entity": EXAMPLE_ENTITY},
                        "response": {"entity": EXAMPLE_ENTITY},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Read",
                handler=handlers.read,
                description="Read an entity's last saved position.",
                request_schema=request_object({"id": ENTITY_ID}, ["id"]),
                response_schema=response_object({"entity": ENTITY}),
                price_units=100,
                examples=[{"title": "Where is bike 17?", "request": {"id": "bike-17"}, "response": {"entity": EXAMPLE_ENTITY}}],
            ),
            BuiltinEndpoint(
                name="Search",
                handler=handlers.search,
                description="Find entities within a radius of a point, nearest first, optionally of one type.",
                request_schema=request_object(
                    {
                        "center": {
                            **request_object({"latitude": LATITUDE, "longitude": LONGITUDE}, ["latitude", "longitude"]),
                            "description": "The centre of the search.",
                        },
                        "radius": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": MAX_DISTANCE_M,
                            "description": "Metres from the centre, up to half the Earth's circumference.",
                        },
                        "type": {**TYPE, "description": "Only entities of this type."},
                        "numEntities": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 10,
                            "description": "Maximum entities returned.",
                        },
                    },
                    ["center", "radius"],
                ),
                response_schema=response_object({"entities": {"type": "array", "items": FOUND}}),
                price_units=100,
                examples=[
                    {
                        "title": "Bikes within 500 m of Trafalgar Square",
                        "request": {
                            "center": {"latitude": 51.508, "longitude": -0.128},
                            "radius": 500,
                            "type": "bike",
                            "numEntities": 5,
                        },
                        "response": {"entities": [{**EXAMPLE_ENTITY, "distance": 68.138}]},
                    }
                ],
            ),
        ],
    )
)
