"""Provider-backed services: our own API over interchangeable third-party providers (see base.py)."""
