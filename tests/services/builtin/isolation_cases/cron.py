from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

# .invalid never resolves (RFC 2606), and no job runs during the test.
JOB = "owner-job-7e2"
CALLBACK = "https://owner-hook-7e2.invalid/run"
MARKERS = (CALLBACK,)


def store(persona: Persona) -> None:
    ok(persona, "cron", "Schedule", {"name": JOB, "interval": 3600, "callback": CALLBACK})


def snapshot(persona: Persona) -> object:
    return ok(persona, "cron", "Jobs")


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("cron", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Schedule", {"name": JOB, "interval": 7200, "callback": "https://outsider.invalid/run"}),
    case("Jobs", {}),
    case("Delete", {"name": JOB}),
]
