"""cache: per-account key-value entries with optional expiry, stored in the database.

The service registers itself in CacheConfig.ready(), once models can be imported.
"""
