"""The cron service's endpoints, schemas and examples."""

from __future__ import annotations

from services.builtin.cron import handlers
from services.builtin.schemas import request_object, response_object
from services.registry import BuiltinEndpoint, BuiltinService, register

NAME = {"type": "string", "minLength": 1, "maxLength": 200, "description": "The job's name, unique in your account."}
ERROR = {
    "type": "object",
    "description": "The error envelope of the last run if it failed, else an empty object.",
    "properties": {
        "id": {"type": "string"},
        "code": {"type": "integer"},
        "detail": {"type": "string"},
        "status": {"type": "string"},
    },
}
JOB = response_object(
    {
        "name": {"type": "string"},
        "interval": {"type": "integer", "description": "Seconds between runs."},
        "callback": {"type": "string", "description": "The URL posted to on each run."},
        "next_run": {"type": "string", "format": "date-time"},
        "last_run": {"type": "string", "description": "When the job last ran, or empty if it has not run yet."},
        "last_status": {"type": "integer", "description": "The callback's last HTTP status, or 0."},
        "last_error": ERROR,
        "created": {"type": "string", "format": "date-time"},
    }
)
EXAMPLE_JOB = {
    "name": "nightly-report",
    "interval": 86400,
    "callback": "https://example.com/hooks/report",
    "next_run": "2026-01-02T12:00:00+00:00",
    "last_run": "",
    "last_status": 0,
    "last_error": {},
    "created": "2026-01-01T12:00:00+00:00",
}

SERVICE = register(
    BuiltinService(
        slug="cron",
        name="Cron",
        tagline="Call your URL on a schedule.",
        description=(
            "Schedule jobs that post to a URL of yours at a fixed interval. Each run sends a JSON body with the "
            "job's name and the time it was due, and an X-M3O-Delivery header that identifies the run. A run "
            "whose time passed while the platform was down is skipped, not made up. Private, loopback and cloud "
            "metadata addresses are rejected."
        ),
        category="Developer tools",
        icon="⏰",
        purge_account=handlers.purge_account,
        endpoints=[
            BuiltinEndpoint(
                name="Schedule",
                handler=handlers.schedule,
                description="Schedule a job, or change the interval and callback of the job with that name.",
                request_schema=request_object(
                    {
                        "name": NAME,
                        "interval": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 31 * 86400,
                            "description": "Seconds between runs; the platform sets a minimum (60 by default).",
                        },
                        "callback": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 2048,
                            "description": "The http or https URL to post to on each run.",
                        },
                    },
                    ["name", "interval", "callback"],
                ),
                response_schema=response_object({"job": JOB}),
                price_units=1_000,
                examples=[
                    {
                        "title": "Run a report every day",
                        "request": {
                            "name": "nightly-report",
                            "interval": 86400,
                            "callback": "https://example.com/hooks/report",
                        },
                        "response": {"job": EXAMPLE_JOB},
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Jobs",
                handler=handlers.jobs,
                description="List your jobs with the outcome of each one's last run.",
                request_schema=request_object({}, []),
                response_schema=response_object({"jobs": {"type": "array", "items": JOB}}),
                price_units=100,
                examples=[{"title": "List jobs", "request": {}, "response": {"jobs": [EXAMPLE_JOB]}}],
            ),
            BuiltinEndpoint(
                name="Delete",
                handler=handlers.delete,
                description="Delete a job by name; it does not run again.",
                request_schema=request_object({"name": NAME}, ["name"]),
                response_schema=response_object({"name": {"type": "string"}}),
                price_units=100,
                examples=[
                    {
                        "title": "Delete a job",
                        "request": {"name": "nightly-report"},
                        "response": {"name": "nightly-report"},
                    }
                ],
            ),
        ],
    )
)
