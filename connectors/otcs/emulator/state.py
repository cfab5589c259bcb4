"""The emulated Content Server's state: seed, ids, tickets, faults, blobs.

Everything lives in the database (``connectors.sandbox.models``) so that the
web and worker processes of the demo see one Content Server; document bytes
live in files under ``VAR_DIR/sandbox/otcs/blobs``.
"""

from __future__ import annotations

import random
import secrets
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from connectors.sandbox.models import (
    OtcsCategory,
    OtcsFault,
    OtcsNode,
    OtcsTicket,
    OtcsUser,
    OtcsWorkspaceType,
)

ADMIN_ID = 1000
ADMIN_NAME = "admin"
ADMIN_PASSWORD = "sandbox-admin"  # noqa: S105 - public demo credential
ENTERPRISE_WORKSPACE = 2000
FIRST_NODE_ID = 100000
# Wording of Content Server's answer to a missing or stale ticket [I]: the
# exact text was not found in the public sources.
AUTH_REQUIRED = "Authentication required."
BAD_CREDENTIALS = "Invalid username/password specified."
DEFAULT_TICKET_SECONDS = 1800

TYPE_NAMES = {
    0: "Folder",
    1: "Shortcut",
    128: "Workflow Map",
    131: "Category",
    136: "Compound Document",
    141: "Enterprise Workspace",
    144: "Document",
    551: "RM Classification",
    833: "Hold",
    848: "Business Workspace",
}
CONTAINERS = {0, 136, 141, 848}

DEMO_CATEGORIES = [
    {
        "id": 9830,
        "name": "Invoice",
        "attributes": [
            {"id": 2, "name": "Invoice number", "type": "string", "multi": False},
            {"id": 3, "name": "Amount", "type": "integer", "multi": False},
            {"id": 4, "name": "Tags", "type": "string", "multi": True},
            {
                "id": 5,
                "name": "Line",
                "type": "set",
                "rows": 1,
                "attributes": [
                    {"id": 6, "name": "Item", "type": "string", "multi": False},
                    {"id": 7, "name": "Quantity", "type": "integer", "multi": False},
                ],
            },
        ],
    },
    {
        "id": 9831,
        "name": "Source",
        "attributes": [
            {"id": 2, "name": "Source system", "type": "string", "multi": False},
            {"id": 3, "name": "Source key", "type": "string", "multi": False},
        ],
    },
    {
        "id": 9832,
        "name": "Business partner",
        "attributes": [
            {"id": 2, "name": "Name", "type": "string", "multi": False},
            {"id": 3, "name": "Account number", "type": "string", "multi": False},
            {"id": 4, "name": "City", "type": "string", "multi": False},
            {"id": 5, "name": "Telephone", "type": "string", "multi": False},
        ],
    },
    {
        "id": 9833,
        "name": "Customer communication",
        "attributes": [
            {"id": 2, "name": "Customer number", "type": "string", "multi": False},
            {"id": 3, "name": "Customer name", "type": "string", "multi": False},
            {"id": 4, "name": "Document type", "type": "string", "multi": False},
            {"id": 5, "name": "Delivery date", "type": "string", "multi": False},
            {"id": 6, "name": "Channel", "type": "string", "multi": False},
            {"id": 7, "name": "Segment", "type": "string", "multi": False},
            {"id": 8, "name": "Product", "type": "string", "multi": False},
            {"id": 9, "name": "Jurisdiction", "type": "string", "multi": False},
            {"id": 10, "name": "Language", "type": "string", "multi": False},
            {"id": 11, "name": "Delivery status", "type": "string", "multi": False},
        ],
    },
    {
        "id": 9834,
        "name": "Content block",
        "attributes": [
            {"id": 2, "name": "Communication", "type": "string", "multi": False},
            {"id": 3, "name": "Block", "type": "string", "multi": False},
            {"id": 4, "name": "Approved text", "type": "string", "multi": False},
        ],
    },
]

TEMPLATES_VOLUME = 2100
CLASSIFICATIONS_VOLUME = 2200
WORKFLOW_VOLUME = 2300
# [A] Workflow maps (subtype 128 nodes above): their form attributes (all
# named WorkflowForm_*, as in Content Server) and their steps. A step's
# assignee is a user id; roles named in ``role_info`` replace it.
WORKFLOW_MAPS: dict[int, dict] = {
    2301: {
        "form": [
            {"key": "WorkflowForm_Title", "label": "Title", "type": "string"},
            {"key": "WorkflowForm_10", "label": "Invoice number", "type": "string"},
            {"key": "WorkflowForm_11", "label": "Amount", "type": "integer"},
        ],
        "steps": [
            {"task_id": 1, "task_name": "Approver", "role": "Approver"},
            {"task_id": 2, "task_name": "Accounting", "role": "Accounting"},
        ],
    },
    2302: {
        "form": [{"key": "WorkflowForm_Title", "label": "Title", "type": "string"}],
        "steps": [{"task_id": 1, "task_name": "Reviewer", "role": "Reviewer"}],
    },
}
SEED_NODES = [
    (TEMPLATES_VOLUME, None, 0, "Business Workspace Templates"),
    (2101, TEMPLATES_VOLUME, 848, "Customer"),
    (2102, 2101, 0, "Contracts"),
    (2103, 2101, 0, "Correspondence"),
    (2104, TEMPLATES_VOLUME, 848, "Sales order"),
    (2105, TEMPLATES_VOLUME, 848, "Supplier"),
    (2106, 2105, 0, "Onboarding"),
    (2107, 2105, 0, "Contracts"),
    (2108, TEMPLATES_VOLUME, 848, "Contract"),
    (2109, 2108, 0, "Drafts"),
    (2110, 2108, 0, "Executed"),
    (2111, TEMPLATES_VOLUME, 848, "Case"),
    (2112, 2111, 0, "Correspondence"),
    (2113, 2111, 0, "Partner documents"),
    (2114, 2104, 0, "Order documents"),
    (2115, 2104, 0, "Shipping"),
    (2116, 2104, 0, "Exceptions"),
    (CLASSIFICATIONS_VOLUME, None, 0, "Classifications"),
    (2201, CLASSIFICATIONS_VOLUME, 551, "Finance"),
    (2202, 2201, 551, "Customer accounts"),
    (2203, CLASSIFICATIONS_VOLUME, 551, "Legal"),
    (WORKFLOW_VOLUME, None, 0, "Workflow Maps"),
    (2301, WORKFLOW_VOLUME, 128, "Approve invoice"),
    (2302, WORKFLOW_VOLUME, 128, "Contract review"),
]
# [A] Type ids, names and the D365 system follow the brief, not a real system.
WORKSPACE_TYPES = [
    {
        "id": 16,
        "name": "Customer",
        "ext_system_id": "D365",
        "bo_type": "account",
        "rm_enabled": True,
        "template_id": 2101,
    },
    {
        "id": 17,
        "name": "Sales order",
        "ext_system_id": "D365",
        "bo_type": "salesorder",
        "rm_enabled": True,
        "template_id": 2104,
    },
    {
        "id": 18,
        "name": "Supplier",
        "ext_system_id": "D365",
        "bo_type": "vendor",
        "rm_enabled": True,
        "template_id": 2105,
    },
    {
        "id": 19,
        "name": "Contract",
        "ext_system_id": "D365",
        "bo_type": "opportunity",
        "rm_enabled": True,
        "template_id": 2108,
    },
    {
        "id": 20,
        "name": "Case",
        "ext_system_id": "D365",
        "bo_type": "incident",
        "rm_enabled": True,
        "template_id": 2111,
    },
]

_seeded = False


def ticket_seconds() -> int:
    """Inactivity after which a ticket expires (30 minutes by default) [O]."""
    return int(
        getattr(
            settings, "XCONNECTOR_SANDBOX_OTCS_TICKET_SECONDS", DEFAULT_TICKET_SECONDS
        )
    )


def blob_dir() -> Path:
    """Where document versions keep their bytes."""
    return Path(settings.VAR_DIR) / "sandbox" / "otcs" / "blobs"


def ensure_seed() -> None:
    """The admin user, the Enterprise Workspace and the demo categories.

    Idempotent; cheap after the first call in a process. Tests flush the
    database between tests, so the check is a query, not only the flag.
    """
    global _seeded
    if _seeded and OtcsUser.objects.filter(id=ADMIN_ID).exists():
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            OtcsUser.objects.get_or_create(
                id=ADMIN_ID,
                defaults={
                    "name": ADMIN_NAME,
                    "password": make_password(ADMIN_PASSWORD),
                    "first_name": "Admin",
                },
            )
            OtcsNode.objects.get_or_create(
                id=ENTERPRISE_WORKSPACE,
                defaults={
                    "type": 141,
                    "name": "Enterprise Workspace",
                    "create_date": now,
                    "modify_date": now,
                    "create_user_id": ADMIN_ID,
                    "modify_user_id": ADMIN_ID,
                    "owner_user_id": ADMIN_ID,
                },
            )
            _seed_workspaces_and_records(now)
            for category in DEMO_CATEGORIES:
                OtcsCategory.objects.get_or_create(
                    id=category["id"],
                    defaults={
                        "name": category["name"],
                        "attributes": category["attributes"],
                    },
                )
    except IntegrityError:
        pass  # another process seeded at the same moment
    _seeded = True


def _seed_node(
    node_id: int, parent: int | None, kind: int, name: str, now: datetime
) -> None:
    OtcsNode.objects.get_or_create(
        id=node_id,
        defaults={
            "parent_id": parent,
            "type": kind,
            "name": name,
            "create_date": now,
            "modify_date": now,
            "create_user_id": ADMIN_ID,
            "modify_user_id": ADMIN_ID,
            "owner_user_id": ADMIN_ID,
        },
    )


def _seed_workspaces_and_records(now: datetime) -> None:
    """Workspace templates and types, and the RM classification tree.

    [A] Content Server keeps templates and classifications in their own
    volumes (not under the Enterprise Workspace); here they are root folders
    (type 0, no parent), so browsing node 2000 is unchanged.
    """
    for node_id, parent, kind, name in SEED_NODES:
        _seed_node(node_id, parent, kind, name, now)
    for wksp_type in WORKSPACE_TYPES:
        OtcsWorkspaceType.objects.get_or_create(
            id=wksp_type["id"],
            defaults={k: v for k, v in wksp_type.items() if k != "id"},
        )


def sign_in(username: str, password: str) -> OtcsTicket | None:
    """A new ticket for good credentials, else None."""
    user = OtcsUser.objects.filter(name__iexact=username).first()
    if user is None or not check_password(password, user.password):
        return None
    now = timezone.now()
    return OtcsTicket.objects.create(
        value=secrets.token_urlsafe(48), user=user, created=now, last_used=now
    )


def touch_ticket(value: str) -> OtcsTicket | None:
    """The ticket if it is known and fresh; using it restarts its clock."""
    if not value:
        return None
    now = timezone.now()
    fresh_after = now - timedelta(seconds=ticket_seconds())
    ticket = OtcsTicket.objects.filter(value=value).first()
    if ticket is None:
        return None
    if ticket.last_used < fresh_after:
        ticket.delete()
        return None
    OtcsTicket.objects.filter(pk=ticket.pk).update(last_used=now)
    return ticket


def take_fault() -> OtcsFault | None:
    """Consume one injected failure, if any is queued; else maybe a random one."""
    with transaction.atomic():
        fault = OtcsFault.objects.filter(remaining__gt=0).order_by("id").first()
        if fault is None:
            return _random_fault()
        # Conditional update: two processes must not both consume the last one.
        taken = OtcsFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if not taken:
            return None
        OtcsFault.objects.filter(remaining__lte=0).delete()
    return fault


def _random_fault() -> OtcsFault | None:
    draw = random.random()  # noqa: S311 - a simulation, not security
    for fault in OtcsFault.objects.filter(rate__isnull=False).order_by("id"):
        if draw < fault.rate:
            return fault
        draw -= fault.rate
    return None


def new_node_id() -> int:
    """The next free node id (100000 and up)."""
    highest = OtcsNode.objects.filter(id__gte=FIRST_NODE_ID).aggregate(top=Max("id"))[
        "top"
    ]
    return max(FIRST_NODE_ID, (highest or 0) + 1)


def create_node(
    parent: OtcsNode | None,
    kind: int,
    name: str,
    user_id: int,
    *,
    description: str = "",
    **extra: object,
) -> OtcsNode:
    """A new node owned, created and last changed by ``user_id``, now.

    Ids are the highest plus one, as Content Server hands them out; when
    two requests take the same id at once, the loser takes the next one.
    """
    now = timezone.now()
    for _ in range(20):
        node_id = new_node_id()
        try:
            with transaction.atomic():
                return OtcsNode.objects.create(
                    id=node_id,
                    parent=parent,
                    type=kind,
                    name=name,
                    description=description,
                    create_date=now,
                    modify_date=now,
                    create_user_id=user_id,
                    modify_user_id=user_id,
                    owner_user_id=user_id,
                    **extra,
                )
        except IntegrityError:
            if not OtcsNode.objects.filter(id=node_id).exists():
                raise  # not the id: another constraint refused the node
    raise RuntimeError("No free node id after 20 tries.")


def store_blob(source: IO[bytes]) -> tuple[str, int]:
    """Copy ``source`` to a new blob file in chunks; its name and size."""
    folder = blob_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    with (folder / name).open("wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
        size = target.tell()
    return name, size


def iso(moment: datetime | None) -> str | None:
    """Content Server's date format: ``2018-08-01T10:49:17Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
