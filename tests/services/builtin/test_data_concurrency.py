"""Parallel writes to the data services keep to the caps and never fail with a 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from django.test import override_settings

from services.builtin.file.models import StoredFile
from services.builtin.lists.models import ItemList
from tests.factories import UserFactory, make_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CREATES = [
    ("lists", {"name": "n"}),
    ("comments", {"text": "t"}),
    ("contact", {"name": "n"}),
    ("chat", {"name": "n"}),
]


def parallel_calls(url: str, secret: str, service: str, endpoint: str, bodies: list[dict[str, Any]]) -> list[int]:
    def call(body: dict[str, Any]) -> int:
        response = httpx.post(
            f"{url}/v1/{service}/{endpoint}", json=body, headers={"Authorization": f"Bearer {secret}"}, timeout=60
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(call, bodies))


@pytest.mark.parametrize(("service", "body"), CREATES)
@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=3)
def test_parallel_creates_stop_at_the_row_cap(live_server: Any, service: str, body: dict[str, Any]) -> None:
    _, secret = make_key(UserFactory())

    statuses = parallel_calls(live_server.url, secret, service, "Create", [body] * 10)

    assert sorted(statuses) == [200] * 3 + [403] * 7


@pytest.mark.parametrize(
    ("service", "setup", "endpoint", "body"),
    [
        ("chat", ("Create", {"id": "r", "name": "n", "user_ids": ["u"]}), "Send", {"room_id": "r", "user_id": "u", "text": "t"}),
        ("stream", ("CreateChannel", {"name": "c"}), "SendMessage", {"channel": "c", "text": "t"}),
    ],
)
@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=3)
def test_parallel_messages_stop_at_the_row_cap(
    live_server: Any, service: str, setup: tuple[str, dict[str, Any]], endpoint: str, body: dict[str, Any]
) -> None:
    _, secret = make_key(UserFactory())
    assert parallel_calls(live_server.url, secret, service, setup[0], [setup[1]]) == [200]

    statuses = parallel_calls(live_server.url, secret, service, endpoint, [body] * 10)

    # The room or channel is one of the three rows the cap allows.
    assert sorted(statuses) == [200] * 2 + [403] * 8


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=3)
def test_parallel_file_saves_stop_at_the_row_cap(live_server: Any) -> None:
    _, secret = make_key(UserFactory())
    bodies = [{"file": {"project": "p", "path": f"/{number}.txt", "content": "x"}} for number in range(10)]

    statuses = parallel_calls(live_server.url, secret, "file", "Save", bodies)

    assert sorted(statuses) == [200] * 3 + [403] * 7
    assert StoredFile.objects.count() == 3


def test_parallel_first_saves_of_one_path_all_succeed(live_server: Any) -> None:
    _, secret = make_key(UserFactory())
    bodies = [{"file": {"project": "p", "path": "/same.txt", "content": str(number)}, "public": True} for number in range(10)]

    statuses = parallel_calls(live_server.url, secret, "file", "Save", bodies)

    assert statuses == [200] * 10
    assert StoredFile.objects.count() == 1


def test_parallel_creates_with_one_id_make_one_list(live_server: Any) -> None:
    _, secret = make_key(UserFactory())

    statuses = parallel_calls(live_server.url, secret, "lists", "Create", [{"id": "same", "name": "n"}] * 10)

    assert sorted(statuses) == [200] + [400] * 9
    assert ItemList.objects.count() == 1
