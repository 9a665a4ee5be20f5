"""The meter's script runner (billing/redis_scripts.py) against the shared Redis."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
import redis
from django.conf import settings

from billing.redis_scripts import IDLE_CHECK_SECONDS, ScriptRunner
from tests.processes import free_port

pytestmark = pytest.mark.redis

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
def client() -> redis.Redis:
    """A client whose connections carry a name of this test's own, so the test can find and kill them."""
    return redis.Redis.from_url(settings.REDIS_URL, client_name=f"runner-test-{secrets.token_hex(4)}")


@pytest.fixture
def counter(client: redis.Redis):
    key = f"m3o:test:runner:{secrets.token_hex(4)}"
    yield key
    client.delete(key)


def test_script_arguments_str_bytes_int(client: redis.Redis, counter: str) -> None:
    runner = ScriptRunner(client)
    echo = client.register_script("return {KEYS[1], ARGV[1], ARGV[2], ARGV[3]}")

    assert runner.run(echo, [counter], ["text é", b"\x00bytes", 42]) == [
        counter.encode(), "text é".encode(), b"\x00bytes", b"42"
    ]


def test_flushed_script_loaded_again(client: redis.Redis, counter: str) -> None:
    runner = ScriptRunner(client)
    incr = client.register_script(INCR)
    assert runner.run(incr, [counter], [1]) == 1

    client.script_flush()  # as after a Redis restart

    assert runner.run(incr, [counter], [1]) == 2


def test_closed_connection_replaced_before_use(client: redis.Redis, counter: str) -> None:
    runner = ScriptRunner(client)
    incr = client.register_script(INCR)
    runner.run(incr, [counter], [1])
    name = client.connection_pool.connection_kwargs["client_name"]
    killed = [c["id"] for c in client.client_list() if c["name"] == name and c["cmd"] != "client|list"]
    assert killed
    for client_id in killed:
        client.client_kill_filter(_id=client_id)
    time.sleep(IDLE_CHECK_SECONDS)  # the runner polls a connection idle this long before use

    assert runner.run(incr, [counter], [1]) == 2  # no error from the dead connection


def test_error_reply_keeps_connection(client: redis.Redis, counter: str) -> None:
    runner = ScriptRunner(client)
    failing = client.register_script("return redis.error_reply('rejected by the script')")
    incr = client.register_script(INCR)

    with pytest.raises(redis.ResponseError, match="rejected by the script"):
        runner.run(failing, [counter], [])
    assert runner.run(incr, [counter], [1]) == 1
    assert len(runner._idle) == 1


def test_unreachable_redis_raises() -> None:
    nowhere = redis.Redis(port=free_port(), socket_connect_timeout=1)  # nothing listens there
    runner = ScriptRunner(nowhere)

    with pytest.raises(redis.ConnectionError):
        runner.run(nowhere.register_script(INCR), ["m3o:test:runner:none"], [1])


def test_parallel_threads_get_own_replies(client: redis.Redis, counter: str) -> None:
    runner = ScriptRunner(client)
    incr = client.register_script(INCR)
    replies: list[int] = []
    start = threading.Barrier(16)

    def work() -> None:
        start.wait()
        for _ in range(200):
            replies.append(runner.run(incr, [counter], [1]))

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Each reply belongs to its own call: a connection shared by two threads would mix them up.
    assert sorted(replies) == list(range(1, 16 * 200 + 1))
    assert int(client.get(counter)) == 16 * 200
