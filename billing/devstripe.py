"""Run localstripe, a fake Stripe API, on loopback for development and tests.

localstripe's own command listens on every interface; this entry point binds
to 127.0.0.1 only. Usage: ``python -m billing.devstripe --port 8420``.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from localstripe.server import app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve localstripe on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8420, help="TCP port to listen on (default 8420).")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
