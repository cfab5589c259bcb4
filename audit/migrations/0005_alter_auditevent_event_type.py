from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_partial_subject_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="event_type",
            field=models.CharField(
                choices=[
                    ("document.transferred", "Document transferred"),
                    ("document.accessed", "Document accessed"),
                    ("transfer.failed", "Transfer failed"),
                    ("run.started", "Run started"),
                    ("run.replayed", "Run replayed"),
                    ("run.cancelled", "Run cancelled"),
                    ("task.opened", "Task opened"),
                    ("task.claimed", "Task claimed"),
                    ("task.resolved", "Task resolved"),
                    ("task.dismissed", "Task dismissed"),
                    ("approval.granted", "Approval granted"),
                    ("approval.rejected", "Approval rejected"),
                    ("workspace.created", "Workspace created"),
                    ("workspace.completed", "Workspace complete"),
                    ("records.hold_applied", "Legal hold applied"),
                    ("config.changed", "Configuration changed"),
                    ("export.made", "Export made"),
                    ("auth.login", "Signed in"),
                    ("auth.login_failed", "Sign-in failed"),
                    ("auth.logout", "Signed out"),
                ],
                max_length=40,
            ),
        ),
    ]
