from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("connectors", "0002_connection_rate_limit"),
        ("integrations", "0002_inbox_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkspaceType",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "key",
                    models.SlugField(
                        help_text="Lower-case letters, digits and _ (used in flows).",
                        max_length=60,
                        unique=True,
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                ("description", models.TextField(blank=True)),
                (
                    "ext_system_id",
                    models.CharField(
                        help_text="The external system in the ECM, e.g. D365.",
                        max_length=100,
                    ),
                ),
                (
                    "bo_type",
                    models.CharField(
                        help_text="The business object type, e.g. account.",
                        max_length=100,
                    ),
                ),
                ("ecm_workspace_type", models.CharField(blank=True, max_length=100)),
                ("ecm_parent_id", models.BigIntegerField(blank=True, null=True)),
                ("folders", models.JSONField(blank=True, default=list)),
                (
                    "review_queue",
                    models.CharField(
                        default="Reviewer",
                        help_text="The reviewers' group that gets its missing documents and approvals.",
                        max_length=150,
                    ),
                ),
                (
                    "connection",
                    models.ForeignKey(
                        help_text="The Content Server connection its workspaces live in.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="workspace_types",
                        to="connectors.connection",
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="Workspace",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("business_key", models.CharField(max_length=300)),
                ("name", models.CharField(max_length=300)),
                ("ecm_node_id", models.BigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "workspace_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="workspaces",
                        to="workspaces.workspacetype",
                    ),
                ),
            ],
            options={
                "ordering": ["-updated_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="DocumentRequirement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "document_type",
                    models.SlugField(
                        help_text="Lower-case letters, digits and _ (used in flows).",
                        max_length=60,
                    ),
                ),
                ("label", models.CharField(max_length=100)),
                ("folder", models.CharField(blank=True, max_length=300)),
                ("required", models.BooleanField(default=True)),
                ("needs_approval", models.BooleanField(default=False)),
                ("valid_days", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "rm_classification",
                    models.BigIntegerField(
                        blank=True,
                        help_text="The records management classification (its node id in Content Server) that sets how long documents of this type are kept.",
                        null=True,
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "workspace_type",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="requirements",
                        to="workspaces.workspacetype",
                    ),
                ),
            ],
            options={
                "ordering": ["workspace_type", "position", "pk"],
            },
        ),
        migrations.CreateModel(
            name="WorkspaceDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("document_type", models.SlugField(max_length=60)),
                ("name", models.CharField(max_length=500)),
                ("ecm_node_id", models.BigIntegerField()),
                ("version", models.PositiveIntegerField(default=1)),
                ("sha256", models.CharField(blank=True, max_length=64)),
                ("size", models.BigIntegerField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("awaiting_approval", "Awaiting approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                        ],
                        default="approved",
                        max_length=20,
                    ),
                ),
                ("valid_until", models.DateField(blank=True, null=True)),
                ("filed_at", models.DateTimeField(auto_now_add=True)),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="workspace_documents",
                        to="integrations.flowrun",
                    ),
                ),
                (
                    "transfer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="workspace_documents",
                        to="integrations.transfer",
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="documents",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["workspace", "document_type", "-filed_at", "-pk"],
                "permissions": [
                    ("access_document", "Can read the content of workspace documents")
                ],
                "indexes": [
                    models.Index(
                        fields=["workspace", "document_type", "-filed_at"],
                        name="workspace_document_latest",
                    ),
                    models.Index(
                        condition=models.Q(("valid_until__isnull", False)),
                        fields=["valid_until"],
                        name="workspace_document_expiry",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("workspace", "ecm_node_id", "version"),
                        name="one_row_per_document_version",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="WorkspaceHold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("comment", models.TextField(blank=True)),
                ("applied_at", models.DateTimeField(auto_now_add=True)),
                ("nodes", models.PositiveIntegerField(default=0)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                (
                    "applied_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="holds",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["-applied_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("released_at__isnull", True)),
                        fields=("workspace", "name"),
                        name="one_active_hold_per_name",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="WorkspaceLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "system",
                    models.CharField(help_text="The connector key.", max_length=60),
                ),
                ("object_type", models.CharField(blank=True, max_length=100)),
                ("object_id", models.CharField(max_length=300)),
                (
                    "workspace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="links",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            options={
                "ordering": ["system", "object_type", "object_id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("workspace", "system", "object_type", "object_id"),
                        name="one_link_per_record",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="workspace",
            index=models.Index(fields=["business_key"], name="workspace_key"),
        ),
        migrations.AddConstraint(
            model_name="workspace",
            constraint=models.UniqueConstraint(
                fields=("workspace_type", "business_key"),
                name="one_workspace_per_business_object",
            ),
        ),
        migrations.AddConstraint(
            model_name="documentrequirement",
            constraint=models.UniqueConstraint(
                fields=("workspace_type", "document_type"),
                name="one_requirement_per_document_type",
            ),
        ),
    ]
