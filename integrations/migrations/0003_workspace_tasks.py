"""Review tasks for a workspace's checklist items (no run)."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_inbox_indexes"),
        ("workspaces", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewtask",
            name="document_type",
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name="reviewtask",
            name="workspace",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="workspaces.workspace",
            ),
        ),
        migrations.AlterField(
            model_name="reviewtask",
            name="run",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="integrations.flowrun",
            ),
        ),
        migrations.AddConstraint(
            model_name="reviewtask",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("status__in", ["open", "claimed"]), ("workspace__isnull", False)
                ),
                fields=("workspace", "document_type"),
                name="one_pending_task_per_checklist_item",
            ),
        ),
    ]
