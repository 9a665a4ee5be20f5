"""The full-text index over SearchField.text, in the form each database offers.

PostgreSQL: a GIN index on the same to_tsvector expression the queries use.
SQLite: an FTS5 table with SearchField's rows as external content, kept in step by
triggers, so every delete (including cascades and account purges) reaches it.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE INDEX builtin_search_field_fts ON builtin_search_searchfield "
    "USING gin (to_tsvector('simple'::regconfig, text))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS builtin_search_field_fts"]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE builtin_search_fts USING fts5("
    "text, content='builtin_search_searchfield', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER builtin_search_fts_insert AFTER INSERT ON builtin_search_searchfield BEGIN "
    "INSERT INTO builtin_search_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER builtin_search_fts_delete AFTER DELETE ON builtin_search_searchfield BEGIN "
    "INSERT INTO builtin_search_fts(builtin_search_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER builtin_search_fts_update AFTER UPDATE ON builtin_search_searchfield BEGIN "
    "INSERT INTO builtin_search_fts(builtin_search_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO builtin_search_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS builtin_search_fts_update",
    "DROP TRIGGER IF EXISTS builtin_search_fts_delete",
    "DROP TRIGGER IF EXISTS builtin_search_fts_insert",
    "DROP TABLE IF EXISTS builtin_search_fts",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('builtin_search', '0001_indexes_documents_fields'),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
