"""Migration operations that keep SQLite's triggers alive through a table's remake.

To add or change a column, Django remakes an SQLite table: it creates a copy, drops the old table and renames
the copy. Dropping the table drops its own triggers, silently; and since SQLite 3.26 the rename re-reads every
trigger of the schema, so that a trigger of another table reading the old one fails the migration ("no such
table"). A migration that remakes a table starts with `set_aside(table)` and ends with `put_back(table)`: every
trigger that names the table is dropped first and created again, unchanged, once the table is back.
Nothing is done on other databases.
"""

from django.db import migrations

_set_aside: dict[tuple[str, str], list[str]] = {}


def _triggers_naming(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND (tbl_name = %s OR sql LIKE %s)",
        [table, f"%{table}%"],
    )
    return cursor.fetchall()


def _drop(table):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            triggers = _triggers_naming(cursor, table)
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        _set_aside[(connection.alias, table)] = [sql for _name, sql in triggers]

    return run


def _create(table):
    def run(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            for sql in _set_aside.pop((connection.alias, table), []):
                cursor.execute(sql)

    return run


def set_aside(table: str) -> migrations.RunPython:
    return migrations.RunPython(_drop(table), _create(table), elidable=False)


def put_back(table: str) -> migrations.RunPython:
    return migrations.RunPython(_create(table), _drop(table), elidable=False)
