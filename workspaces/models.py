"""Business workspaces: every document in the context of its business object.

A ``WorkspaceType`` (customer, contract, supplier, …) says where its
workspaces live in the ECM (the Content Server connection, the workspace type
there, the external system and business object type they are linked to) and
which documents each must hold (its ``DocumentRequirement`` checklist). A
``Workspace`` is one business object's: one row per (type, business key),
whatever the number of events about it, linked to the ECM workspace and to
the object's records in other systems (``WorkspaceLink``). The documents
filed into it are ``WorkspaceDocument`` rows, each tied to the transfer ledger
entry that moved it.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

SLUG_HELP = "Lower-case letters, digits and _ (used in flows)."


class WorkspaceType(models.Model):
    """A kind of business object and the workspace it gets in the ECM.

    ``ecm_workspace_type`` is the ECM's workspace type (id or name; empty:
    the type bound to ``bo_type``), ``ecm_parent_id`` where new workspaces
    go (empty: where the type puts them). ``folders`` are created in each
    new workspace; a checklist item files into one of them.
    """

    key = models.SlugField(max_length=60, unique=True, help_text=SLUG_HELP)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    connection = models.ForeignKey(
        "connectors.Connection",
        on_delete=models.PROTECT,
        related_name="workspace_types",
        help_text="The Content Server connection its workspaces live in.",
    )
    ext_system_id = models.CharField(
        max_length=100, help_text="The external system in the ECM, e.g. D365."
    )
    bo_type = models.CharField(
        max_length=100, help_text="The business object type, e.g. account."
    )
    ecm_workspace_type = models.CharField(max_length=100, blank=True)
    ecm_parent_id = models.BigIntegerField(null=True, blank=True)
    folders = models.JSONField(default=list, blank=True)
    review_queue = models.CharField(
        max_length=150,
        default="Reviewer",
        help_text="The reviewers' group that gets its missing documents and approvals.",
    )
    # Metadata sync: the business system's connection (Dynamics 365) and the
    # table whose record each workspace is linked to (a ``WorkspaceLink``
    # with that connector key and ``object_type``).
    system_connection = models.ForeignKey(
        "connectors.Connection",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="synced_workspace_types",
        help_text="The business system whose records are kept in step with "
        "the workspaces' metadata (empty: no metadata sync).",
    )
    record_set = models.CharField(
        max_length=100,
        blank=True,
        help_text="The table of the linked records, e.g. accounts.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DocumentRequirement(models.Model):
    """One item of a workspace type's checklist: a document type that each
    workspace must hold, whether it must be approved, how long it stays
    valid (empty: for ever) and the folder it is filed into."""

    workspace_type = models.ForeignKey(
        WorkspaceType, on_delete=models.CASCADE, related_name="requirements"
    )
    document_type = models.SlugField(max_length=60, help_text=SLUG_HELP)
    label = models.CharField(max_length=100)
    folder = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    needs_approval = models.BooleanField(default=False)
    valid_days = models.PositiveIntegerField(null=True, blank=True)
    rm_classification = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The records management classification (its node id in "
        "Content Server) that sets how long documents of this type are kept.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["workspace_type", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_type", "document_type"],
                name="one_requirement_per_document_type",
            )
        ]

    def __str__(self) -> str:
        return self.label


class Workspace(models.Model):
    """One business object's workspace; one per (type, business key).

    ``ecm_node_id`` is empty until the ECM workspace is found or created;
    ``completed_at`` is set when its checklist was last found complete.
    """

    workspace_type = models.ForeignKey(
        WorkspaceType, on_delete=models.PROTECT, related_name="workspaces"
    )
    business_key = models.CharField(max_length=300)
    name = models.CharField(max_length=300)
    ecm_node_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-updated_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_type", "business_key"],
                name="one_workspace_per_business_object",
            )
        ]
        indexes = [models.Index(fields=["business_key"], name="workspace_key")]

    def __str__(self) -> str:
        return self.name


class WorkspaceLink(models.Model):
    """The business object's record in another system (a Dynamics account,
    a Trading Grid partner, an Exstream communication)."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="links"
    )
    system = models.CharField(max_length=60, help_text="The connector key.")
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=300)

    class Meta:
        ordering = ["system", "object_type", "object_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "system", "object_type", "object_id"],
                name="one_link_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.object_type} {self.object_id}".strip()


class DocumentStatus(models.TextChoices):
    """A filed document's standing::

    awaiting_approval --approved--> approved
    awaiting_approval --rejected--> rejected
    (filed where no approval is needed) --> approved
    """

    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class WorkspaceDocument(models.Model):
    """A document filed into a workspace as one of its document types.

    One row per ECM node and version; the newest of a document type is the
    one the checklist counts. ``valid_until`` comes from the requirement's
    validity (or the flow's expiry date for the document).
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="documents"
    )
    document_type = models.SlugField(max_length=60)
    name = models.CharField(max_length=500)
    ecm_node_id = models.BigIntegerField()
    version = models.PositiveIntegerField(default=1)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.APPROVED
    )
    valid_until = models.DateField(null=True, blank=True)
    transfer = models.ForeignKey(
        "integrations.Transfer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workspace_documents",
    )
    run = models.ForeignKey(
        "integrations.FlowRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="workspace_documents",
    )
    filed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "document_type", "-filed_at", "-pk"]
        permissions = [
            ("access_document", "Can read the content of workspace documents")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "ecm_node_id", "version"],
                name="one_row_per_document_version",
            )
        ]
        indexes = [
            models.Index(
                fields=["workspace", "document_type", "-filed_at"],
                name="workspace_document_latest",
            ),
            models.Index(
                fields=["valid_until"],
                condition=Q(valid_until__isnull=False),
                name="workspace_document_expiry",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def expired_on(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today


class WorkspaceHold(models.Model):
    """A legal hold on every document of a workspace (and those filed while
    it lasts), applied through Content Server's records management; a held
    document cannot be deleted there. ``released_at`` ends it."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="holds"
    )
    name = models.CharField(max_length=200)
    comment = models.TextField(blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applied_at = models.DateTimeField(auto_now_add=True)
    nodes = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-applied_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class SyncOwner(models.TextChoices):
    SYSTEM = "system", "The business system"
    ECM = "ecm", "Content Server"


class SyncDirection(models.TextChoices):
    FROM_OWNER = "from_owner", "From the owner only"
    BOTH = "both", "Both ways"


class OnConflict(models.TextChoices):
    OWNER = "owner", "The owner's value wins"
    REVIEW = "review", "A reviewer decides"


class Transform(models.TextChoices):
    NONE = "", "As it is"
    TRIM = "trim", "Trim spaces"
    UPPER = "upper", "UPPER CASE"
    LOWER = "lower", "lower case"


class SyncRule(models.Model):
    """One field kept in step between the linked record (``system_field``,
    a column) and the ECM workspace (``ecm_attribute``, a category
    attribute such as ``9832_2``).

    ``owner`` is the system whose value counts; ``direction`` says whether
    a change made in the other system is copied too (both ways) or is a
    conflict (from the owner only). ``to_ecm`` / ``to_system`` reshape a
    value on its way. A conflict (both sides changed since the last sync,
    the other side changed a field it does not own, or Dynamics answering
    412) is settled by ``on_conflict``: the owner's value, or a reviewer.
    """

    workspace_type = models.ForeignKey(
        WorkspaceType, on_delete=models.CASCADE, related_name="sync_rules"
    )
    label = models.CharField(max_length=100)
    system_field = models.CharField(max_length=100)
    ecm_attribute = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[0-9]+_[0-9]+$",
                "Write the attribute as {category id}_{attribute id}, e.g. 9832_2.",
            )
        ],
        help_text="The category attribute, {category id}_{attribute id}, e.g. 9832_2.",
    )
    owner = models.CharField(
        max_length=10, choices=SyncOwner.choices, default=SyncOwner.SYSTEM
    )
    direction = models.CharField(
        max_length=12, choices=SyncDirection.choices, default=SyncDirection.FROM_OWNER
    )
    on_conflict = models.CharField(
        max_length=10, choices=OnConflict.choices, default=OnConflict.REVIEW
    )
    to_ecm = models.CharField(
        max_length=10, choices=Transform.choices, default=Transform.NONE, blank=True
    )
    to_system = models.CharField(
        max_length=10, choices=Transform.choices, default=Transform.NONE, blank=True
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["workspace_type", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace_type", "system_field"],
                name="one_rule_per_system_field",
            ),
            models.UniqueConstraint(
                fields=["workspace_type", "ecm_attribute"],
                name="one_rule_per_ecm_attribute",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class SyncedValue(models.Model):
    """A field's values on both sides when it was last in step: the base
    a three-way comparison tells each side's changes from."""

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="synced_values"
    )
    rule = models.ForeignKey(SyncRule, on_delete=models.CASCADE, related_name="+")
    system_value = models.JSONField(null=True, blank=True)
    ecm_value = models.JSONField(null=True, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "rule"], name="one_synced_value_per_field"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.system_value!r} / {self.ecm_value!r}"


class ConflictStatus(models.TextChoices):
    """open --reviewer chose--> resolved; (owner rule) --> resolved at once."""

    OPEN = "open", "Waiting for a reviewer"
    RESOLVED = "resolved", "Resolved"


class SyncConflict(models.Model):
    """Both systems hold a different value for a field and the sync could
    not tell which is right by itself, or settled it by the owner rule.

    Nothing is written for the field while it is open; ``kept`` is the
    value that was written to both sides when it was resolved, and
    ``resolved_by`` empty with ``by_rule`` set means the owner rule did it.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="conflicts"
    )
    rule = models.ForeignKey(SyncRule, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    base_system = models.JSONField(null=True, blank=True)
    base_ecm = models.JSONField(null=True, blank=True)
    system_value = models.JSONField(null=True, blank=True)
    ecm_value = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    by_rule = models.BooleanField(default=False)
    kept = models.JSONField(null=True, blank=True)
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-detected_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "rule"],
                condition=Q(status="open"),
                name="one_open_conflict_per_field",
            )
        ]

    def __str__(self) -> str:
        return self.reason
