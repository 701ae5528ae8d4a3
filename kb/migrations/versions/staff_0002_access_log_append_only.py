"""the staff access log is append-only in the database itself

Revision ID: staff_0002
Revises: staff_0001
Create Date: 2026-11-21 18:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "staff_0002"
down_revision: str | Sequence[str] | None = "staff_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "staff_access is append-only: audit rows cannot be changed or deleted"


def upgrade() -> None:
    # Triggers, so not even a librarian with database access through the app's own
    # connection can rewrite who looked at what.
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER staff_access_no_{verb.lower()} BEFORE {verb} ON staff_access "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION staff_access_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER staff_access_append_only BEFORE UPDATE OR DELETE ON staff_access "
        "FOR EACH ROW EXECUTE FUNCTION staff_access_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS staff_access_no_update")
        op.execute("DROP TRIGGER IF EXISTS staff_access_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS staff_access_append_only ON staff_access")
    op.execute("DROP FUNCTION IF EXISTS staff_access_append_only()")
