"""Temporary staging tables: load many rows fast, then work on them set-based in SQL.

PostgreSQL loads with `COPY … FROM STDIN` (psycopg 3); SQLite with `executemany`. Tables are
per connection (TEMP) and named by the caller, so two jobs never share one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson
from django.db import connection

TYPES = {
    "postgresql": {"text": "text", "int": "bigint", "bool": "boolean", "json": "jsonb"},
    "sqlite": {"text": "text", "int": "integer", "bool": "integer", "json": "text"},
}


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def temp_table(name: str, columns: Sequence[tuple[str, str]], *, index: str | None = None) -> None:
    """Create (if needed) and empty a temp table with `(column, type)` pairs."""
    types = TYPES[connection.vendor]
    cols = ", ".join(f"{col} {types[kind]}" for col, kind in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols})")
        if index:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name}_idx ON {name} ({index})")
    empty(name)


def empty(name: str) -> None:
    """Remove every row of a staging table (PostgreSQL: TRUNCATE, no dead rows left)."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {name}" if is_postgresql() else f"DELETE FROM {name}")


def temp_table_drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def load(name: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Append rows to a staging table."""
    with connection.cursor() as cursor:
        if is_postgresql():
            with cursor.cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", list(rows)
            )


def analyze(name: str) -> None:
    """Fresh planner statistics for a just-loaded staging table (PostgreSQL)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {name}")


def in_list(values: Sequence) -> tuple[str, list]:
    """SQL and its one parameter for `column <sql>` matching any of `values` (all strings or all
    integers), passed as one JSON array: binding thousands of parameters costs more."""
    array = orjson.dumps(list(values)).decode()
    if not is_postgresql():
        return "IN (SELECT value FROM json_each(%s))", [array]
    cast = "::bigint" if values and isinstance(values[0], int) else ""
    return f"IN (SELECT json_array_elements_text(%s::json){cast})", [array]


def select_in(sql: str, values: Sequence, params: Sequence = ()) -> list[tuple]:
    """Rows of `sql` for all of `values`: `{in}` in `sql` stands for the `in_list` clause, and
    its parameter comes after `params`."""
    if not values:
        return []
    clause, in_params = in_list(values)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**{"in": clause}), [*params, *in_params])
        return cursor.fetchall()
