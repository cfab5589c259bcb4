"""Emulator state. Each emulated system adds its models here.

OpenText Content Server (``Otcs...``): users, tickets, nodes, versions (the
bytes live in files under ``VAR_DIR/sandbox/otcs/blobs``), category
definitions and the category values applied to nodes, plus the queue of
injected faults. The state lives in the database because the demo runs several
processes (web, worker) that must see the same Content Server.
"""

from __future__ import annotations

from django.db import models


class OtcsUser(models.Model):
    """A Content Server user who can sign in (``POST api/v1/auth``)."""

    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=150, unique=True)
    password = models.CharField(max_length=128)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)

    def __str__(self) -> str:
        return self.name


class OtcsTicket(models.Model):
    """An OTCSTicket handed out at sign-in; it expires after inactivity."""

    value = models.CharField(max_length=128, unique=True)
    user = models.ForeignKey(OtcsUser, on_delete=models.CASCADE)
    created = models.DateTimeField()
    last_used = models.DateTimeField()

    def __str__(self) -> str:
        return f"ticket of {self.user_id}"


class OtcsNode(models.Model):
    """A node: folder (0), document (144), the Enterprise Workspace (141)...

    Names are unique within their parent folder, as in Content Server.
    """

    id = models.BigIntegerField(primary_key=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    type = models.IntegerField()
    name = models.CharField(max_length=248)
    description = models.TextField(blank=True)
    create_date = models.DateTimeField()
    modify_date = models.DateTimeField()
    create_user_id = models.IntegerField()
    modify_user_id = models.IntegerField()
    owner_user_id = models.IntegerField()
    mime_type = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(default=0)
    external_create_date = models.DateTimeField(null=True, blank=True)
    external_source = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="sandbox_otcs_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class OtcsVersion(models.Model):
    """One version of a document; its bytes are in ``blob`` (a file name)."""

    node = models.ForeignKey(OtcsNode, on_delete=models.CASCADE)
    number = models.IntegerField()
    major = models.IntegerField(default=0)
    minor = models.IntegerField(default=0)
    file_name = models.CharField(max_length=248)
    blob = models.CharField(max_length=100)
    size = models.BigIntegerField()
    mime_type = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    create_date = models.DateTimeField()
    owner_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "number"], name="sandbox_otcs_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id} v{self.number}"


class OtcsCategory(models.Model):
    """A category definition.

    ``attributes`` is a list of ``{"id", "name", "type", "multi"}``; a set is
    ``{"id", "name", "type": "set", "rows", "attributes": [...]}``. Types:
    ``string``, ``integer``, ``date``, ``boolean``.
    """

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=248)
    attributes = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.name


class OtcsCategoryValue(models.Model):
    """A category applied to a node, with its values keyed ``{cat}_{attr}``."""

    node = models.ForeignKey(OtcsNode, on_delete=models.CASCADE)
    category = models.ForeignKey(OtcsCategory, on_delete=models.CASCADE)
    values = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "category"], name="sandbox_otcs_unique_category"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.category_id}"


class OtcsFault(models.Model):
    """An injected failure: the next ``remaining`` calls answer ``status``;
    or, with ``rate``, that share of all calls until it is cleared.

    ``status`` 0 is a slow answer: the call waits ``seconds`` (before the
    work, or ``after`` it: the change is made but the caller has given up).
    For 429 and 503, ``seconds`` is the Retry-After.
    """

    status = models.IntegerField()
    remaining = models.IntegerField(default=0)
    rate = models.FloatField(null=True, blank=True)
    seconds = models.FloatField(default=1)
    after = models.BooleanField(default=False)
    message = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.status} x{self.remaining}"


class OtcsWorkspaceType(models.Model):
    """A business workspace type, bound to a business object type.

    ``template`` is the template node (subtype 848) new workspaces copy.
    """

    id = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=248)
    ext_system_id = models.CharField(max_length=100)
    bo_type = models.CharField(max_length=100)
    rm_enabled = models.BooleanField(default=False)
    template = models.ForeignKey(OtcsNode, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.name


class OtcsWorkspace(models.Model):
    """A node that is a business workspace, with its type."""

    node = models.OneToOneField(
        OtcsNode, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    wksp_type = models.ForeignKey(OtcsWorkspaceType, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"workspace {self.node_id}"


class OtcsWorkspaceReference(models.Model):
    """A business object linked to a workspace (one workspace per object)."""

    workspace = models.ForeignKey(OtcsWorkspace, on_delete=models.CASCADE)
    ext_system_id = models.CharField(max_length=100)
    bo_type = models.CharField(max_length=100)
    bo_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ext_system_id", "bo_type", "bo_id"],
                name="sandbox_otcs_unique_business_object",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ext_system_id}/{self.bo_type}/{self.bo_id}"


class OtcsWorkspaceRelation(models.Model):
    """``related`` is a ``rel_type`` (child or parent) of ``workspace``.

    One row serves both directions: ``workspace`` sees the opposite type.
    """

    workspace = models.ForeignKey(
        OtcsWorkspace, on_delete=models.CASCADE, related_name="+"
    )
    related = models.ForeignKey(
        OtcsWorkspace, on_delete=models.CASCADE, related_name="+"
    )
    rel_type = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "related", "rel_type"],
                name="sandbox_otcs_unique_relation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.rel_type} {self.related_id}"


class OtcsRmClassification(models.Model):
    """An RM classification (node of subtype 551) applied to a node."""

    node = models.ForeignKey(OtcsNode, on_delete=models.CASCADE, related_name="+")
    classification = models.ForeignKey(
        OtcsNode, on_delete=models.CASCADE, related_name="+"
    )
    record_date = models.DateTimeField()
    official = models.BooleanField(default=False)
    details = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "classification"],
                name="sandbox_otcs_unique_classification",
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.classification_id}"


class OtcsHold(models.Model):
    """A records management hold (legal hold and the like)."""

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=248, unique=True)
    type = models.CharField(max_length=50)
    comment = models.TextField(blank=True)
    alternate_id = models.CharField(max_length=100, blank=True)
    date_applied = models.DateTimeField()
    date_to_remove = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class OtcsNodeHold(models.Model):
    """A hold applied to a node; held nodes cannot be deleted."""

    node = models.ForeignKey(OtcsNode, on_delete=models.CASCADE)
    hold = models.ForeignKey(OtcsHold, on_delete=models.CASCADE)
    date_applied = models.DateTimeField()
    applied_by = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "hold"], name="sandbox_otcs_unique_node_hold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.hold_id}"


class OtcsProcess(models.Model):
    """A workflow: a draft process until initiated, then a process.

    ``id`` is the draft process id; ``process_id`` is set on initiation.
    ``values`` holds the ``WorkflowForm_*`` form values, ``status`` is
    ``draft``, ``ontime``, ``suspended``, ``stopped`` or ``completed``.
    """

    id = models.BigIntegerField(primary_key=True)
    process_id = models.BigIntegerField(null=True, blank=True, unique=True)
    workflow = models.ForeignKey(OtcsNode, on_delete=models.CASCADE, related_name="+")
    doc_ids = models.JSONField(default=list)
    values = models.JSONField(default=dict)
    role_info = models.JSONField(default=dict)
    status = models.CharField(max_length=20, default="draft")
    comment = models.TextField(blank=True)
    initiator = models.IntegerField()
    date_initiated = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"draft {self.id} process {self.process_id}"
