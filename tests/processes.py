"""Helpers for tests that start real server or worker processes on the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def child_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a child process that shares this test's database."""
    return {**os.environ, "DATABASE_URL": child_database_url(), "M3O_VAR_DIR": str(var_dir), **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@contextmanager
def running_asgi_server(tmp_path: Path, **environment: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve m3o_web.asgi with granian on 127.0.0.1 on the test database; yield its URL and process.

    ``environment`` holds extra environment variables for the server, such as tighter rate limits.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The tests read balances from the database, so the server charges it directly, as in the other tests.
    env = process_env(
        tmp_path, **{"DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "M3O_METER": "database", "M3O_SITE_URL": url,
                     **environment}
    )
    log_path = tmp_path / "granian.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
         "m3o_web.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        try:
            return httpx.post(f"{url}/v1/helloworld/Call", timeout=2).status_code == 401
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(ready), log_path.read_text()[-3000:]
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
        log.close()


def start_worker(tmp_path: Path, queues: str, log_name: str, **env: str) -> subprocess.Popen:
    """Start a Celery worker process on ``queues``, pointed at the test database, logging to tmp_path/log_name."""
    log = (tmp_path / log_name).open("a")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "m3o_web", "worker", "--pool", "solo", "-Q", queues,
         "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--hostname", f"{log_name}@%h"],
        cwd=ROOT, env=process_env(tmp_path, **env), stdout=log, stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen) -> None:
    """Stop a child process gracefully, or kill it if it does not stop within 20 seconds."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)
