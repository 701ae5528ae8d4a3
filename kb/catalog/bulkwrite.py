"""Writing many rows at once: COPY on PostgreSQL, one executemany on SQLite.

Statements per row, even pipelined, cost more than the rows themselves at import
volumes; COPY is PostgreSQL's bulk path. Values must already be in the database's
terms (JSON as text, enums as their values, dates as ISO text on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from kb.db import is_sqlite


def placeholder(session: Session) -> str:
    return "?" if is_sqlite(session) else "%s"


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    if not rows:
        return
    connection = session.connection()
    if is_sqlite(session):
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows)
        )
        return
    # The session's own psycopg connection, so the COPY is part of its transaction.
    driver = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def next_ids(session: Session, table: str, count: int) -> list[int] | None:
    """``count`` fresh ids from the table's sequence on PostgreSQL, so rows can be
    copied with their ids and need not be looked up again; None on SQLite."""
    if is_sqlite(session) or not count:
        return None
    rows = session.connection().exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in rows]
