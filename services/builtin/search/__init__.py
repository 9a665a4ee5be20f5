"""search: full-text search over JSON records in named indexes.

PostgreSQL full-text search in production, SQLite FTS5 in the embedded default.
The service registers itself in SearchConfig.ready(), once models can be imported.
"""
