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
    """An injected failure: the next ``remaining`` calls answer ``status``."""

    status = models.IntegerField()
    remaining = models.IntegerField()
    message = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.status} x{self.remaining}"
