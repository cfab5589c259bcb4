"""The chain's genesis head, a BRIN index on time (PostgreSQL) and, on SQLite,
a trigger that refuses UPDATE of audit events (PostgreSQL has pgtrigger's)."""

from __future__ import annotations

from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    apps.get_model("audit", "ChainHead").objects.get_or_create(
        pk=1, defaults={"sequence": 0, "hash": GENESIS_HASH}
    )


def vendor_sql(forward: dict[str, str], backward: dict[str, str]):
    def run(sql: dict[str, str]):
        def operation(apps, schema_editor):
            statement = sql.get(schema_editor.connection.vendor)
            if statement:
                schema_editor.execute(statement)

        return operation

    return migrations.RunPython(run(forward), run(backward))


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        vendor_sql(
            {
                "postgresql": "CREATE INDEX audit_time_brin ON audit_auditevent "
                "USING brin (occurred_at) WITH (pages_per_range = 32)",
                "sqlite": "CREATE TRIGGER audit_append_only_update BEFORE UPDATE "
                "ON audit_auditevent BEGIN SELECT RAISE(ABORT, "
                "'audit events are append-only'); END",
            },
            {
                "postgresql": "DROP INDEX IF EXISTS audit_time_brin",
                "sqlite": "DROP TRIGGER IF EXISTS audit_append_only_update",
            },
        ),
    ]
