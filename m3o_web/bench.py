"""The baseline endpoint for bench/gateway.py, routed only when M3O_BENCH_BASELINE is on.

It parses the same JSON body as helloworld/Call and returns the same
response, with no key check, rate limit, pricing or metering, so the
benchmark's ratio shows what the gateway's own steps cost.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def echo(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    return HttpResponse(json.dumps({"message": f"Hello {body.get('name', '')}"}), content_type="application/json")
