"""Indexes for the pages at 1 million runs (bench/pages_bench.py).

- the run list's order and the dashboard's runs per day by status: one
  index on created_at that carries the status (read without the table on
  PostgreSQL), in place of the plain index on created_at;
- the dashboard's documents per day: completed transfers by day, with their
  size;
- the dashboard's oldest pending task;
- on PostgreSQL, trigram indexes for the run list's search box (business
  object or event id, ``icontains``: ``UPPER(column::text) LIKE``), as for
  the inbox in 0002.
"""

from __future__ import annotations

from django.db import migrations, models

TRIGRAM_COLUMNS = {
    "run_search_business_key": "business_key",
    "run_search_event_id": "event_id",
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_COLUMNS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON integrations_flowrun "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0006_flow_drafts_and_step_tests"),
    ]

    operations = [
        migrations.AlterField(
            model_name="flowrun",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True),
        ),
        migrations.AddIndex(
            model_name="flowrun",
            index=models.Index(
                fields=["created_at"], include=("status",), name="run_created"
            ),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                condition=models.Q(("status", "done")),
                fields=["completed_at"],
                include=("size",),
                name="transfer_done_at",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "claimed"])),
                fields=["created_at", "id"],
                name="task_pending_oldest",
            ),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
