"""Idempotency-Key handling: a repeated call returns the first call's response.

The first call with a key claims it by inserting a row (unique per account
and key), runs, and stores its response. Repeats within ``TTL`` get that
response and are not charged. A repeat with a different request gets 422,
and a repeat that arrives while the first still runs waits for it. Responses are
stored only when the call reached its handler and did not fail with a 5xx,
so a call refused before running (402, 429, 400) or failing in the platform
can be retried with the same key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone

from m3o_web.errors import ApiError, BadRequest, UnprocessableContent
from services.models import IdempotencyRecord

TTL = dt.timedelta(hours=24)
# A claim still unfinished after this long belongs to a call that died; it exceeds the longest call.
ABANDONED_AFTER = dt.timedelta(minutes=10)
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
STORED_HEADERS = ("X-Request-Id", "Content-Type")
_KEY_SYNTAX = re.compile(r"[\x21-\x7e]{1,255}")


class Conflict(ApiError):
    code = 409
    error_id = "v1.idempotency_in_progress"


def request_hash(*, service: str, endpoint: str, raw_body: bytes) -> str:
    digest = hashlib.sha256(f"{service.lower()}/{endpoint.lower()}\n".encode())
    digest.update(raw_body)
    return digest.hexdigest()


def check_key(value: str) -> str:
    if not _KEY_SYNTAX.fullmatch(value):
        raise BadRequest(
            "The Idempotency-Key header must be 1 to 255 printable ASCII characters without spaces, e.g. a UUID.",
            error_id="v1.bad_idempotency_key",
        )
    return value


def claim(*, account_id: int, key: str, hash_value: str, request_id: str) -> HttpResponse | None:
    """Claim the key for this call, or return the stored response of the call that claimed it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        now = timezone.now()
        IdempotencyRecord.objects.filter(account_id=account_id, key=key).filter(
            Q(created_at__lt=now - TTL) | Q(status_code__isnull=True, created_at__lt=now - ABANDONED_AFTER)
        ).delete()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    account_id=account_id, key=key, request_hash=hash_value, request_id=request_id
                )
            return None
        except IntegrityError:
            pass
        record = IdempotencyRecord.objects.filter(account_id=account_id, key=key).first()
        if record is None:
            continue  # released by the first call meanwhile; claim it again
        if record.request_hash != hash_value:
            raise UnprocessableContent(
                "This Idempotency-Key was used with a different request in the last 24 hours. "
                "Use a new key for a new request.",
                error_id="v1.idempotency_mismatch",
            )
        if record.status_code is not None:
            return _replay(record)
        if time.monotonic() >= deadline:
            raise Conflict("A call with this Idempotency-Key is still running. Retry in a few seconds.")
        time.sleep(POLL_SECONDS)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    response["X-M3O-Cost"] = "0"  # this request charged nothing; the first one paid
    return response


def complete(*, account_id: int, key: str, response: HttpResponse, handler_ran: bool) -> None:
    """Store the response for repeats, or release the key so the call can be retried."""
    records = IdempotencyRecord.objects.filter(account_id=account_id, key=key, status_code__isnull=True)
    if not handler_ran or response.status_code >= 500:
        records.delete()
        return
    records.update(
        status_code=response.status_code,
        response_body=response.content,
        response_headers={name: response[name] for name in STORED_HEADERS if name in response},
    )


def purge_expired() -> int:
    return IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - TTL).delete()[0]
