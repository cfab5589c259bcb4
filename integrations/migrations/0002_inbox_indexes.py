"""Indexes for the reviewers' inbox at 100,000 tasks (bench/inbox_bench.py).

- counts per queue from one covering index of pending tasks;
- every task in order, for the admins' "All" tab;
- on PostgreSQL, trigram indexes for the search box: Django's ``icontains``
  is ``UPPER(column::text) LIKE UPPER(%s)``, so the indexes are on that
  expression. ``pg_trgm`` ships with PostgreSQL (contrib); creating the
  extension needs a role that may (the database owner from PostgreSQL 13).
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations, models

TRIGRAM_COLUMNS = {
    "task_search_object": "business_object",
    "task_search_title": "title",
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_COLUMNS.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON integrations_reviewtask "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_flows_runs_transfers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="reviewtask",
            name="task_inbox",
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "claimed"])),
                fields=["queue", "due_at"],
                include=("assignee", "id"),
                name="task_pending_queue",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(fields=["due_at", "priority", "id"], name="task_due"),
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                fields=["priority", "due_at", "id"], name="task_priority"
            ),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
