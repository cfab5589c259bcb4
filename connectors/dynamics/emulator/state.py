"""The emulated Dataverse's state: seed, versions, tokens, faults, webhooks.

Rows live in ``connectors.dynamics.sandbox.models``. Every change takes the
next number of one counter shared by all tables, as Dataverse's
``versionnumber`` does: it is the row's ETag and the change-tracking token.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Max

from connectors.dynamics.emulator import tables
from connectors.dynamics.sandbox.models import DvFault, DvRecord, DvSetting

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - public demo credential
DEFAULT_TOKEN_LIFETIME = 3599
TOKEN_SALT = "sandbox-dynamics-token"  # noqa: S105 - a signing salt
ORGANIZATION_ID = "11111111-1111-4111-8111-111111111111"
BUSINESS_UNIT_ID = "66666666-6666-4666-8666-666666666666"
USER_ID = "77777777-7777-4777-8777-777777777777"

DEMO_ACCOUNTS = [
    ("aaaaaaaa-0000-4000-8000-000000000001", "Contoso Ltd", "A1", "Seattle"),
    ("aaaaaaaa-0000-4000-8000-000000000002", "Fabrikam Inc", "A2", "Berlin"),
    ("aaaaaaaa-0000-4000-8000-000000000003", "Northwind Traders", "A3", "London"),
]
DEMO_CONTACTS = [
    ("cccccccc-0000-4000-8000-000000000001", "Yvonne", "McKay", 0),
    ("cccccccc-0000-4000-8000-000000000002", "Susanna", "Stubberod", 1),
]
_seed_lock = threading.Lock()
_seeded = False


class NotFound(Exception):
    """No live row with that key."""


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_version() -> int:
    """The next number of the shared counter (inside a transaction)."""
    highest = DvRecord.objects.aggregate(top=Max("version"))["top"] or 1000
    return highest + 1


def ensure_seed() -> None:
    """Create the demo rows and the SDK message rows once per database."""
    global _seeded
    if _seeded and DvRecord.objects.filter(entity_set="sdkmessages").exists():
        return
    with _seed_lock, transaction.atomic():
        if DvRecord.objects.filter(entity_set="sdkmessages").exists():
            _seeded = True
            return
        for message in tables.MESSAGES:
            _insert(
                "sdkmessages",
                message_id := tables.message_id(message),
                {"name": message},
            )
            for table in tables.TABLES.values():
                if table.webhooks:
                    _insert(
                        "sdkmessagefilters",
                        tables.filter_id(message, table.logical_name),
                        {
                            "primaryobjecttypecode": table.logical_name,
                            "_sdkmessageid_value": message_id,
                        },
                    )
        for record_id, name, number, city in DEMO_ACCOUNTS:
            _insert(
                "accounts",
                record_id,
                {
                    "name": name,
                    "accountnumber": number,
                    "address1_city": city,
                    "telephone1": "+1 555 0100",
                    "emailaddress1": f"info@{name.split()[0].lower()}.example.com",
                },
            )
        for record_id, first, last, account in DEMO_CONTACTS:
            _insert(
                "contacts",
                record_id,
                {
                    "firstname": first,
                    "lastname": last,
                    "fullname": f"{first} {last}",
                    "emailaddress1": f"{first.lower()}@example.com",
                    "_parentcustomerid_value": DEMO_ACCOUNTS[account][0],
                },
            )
        _seeded = True


def _insert(entity_set: str, record_id: str, data: dict[str, Any]) -> DvRecord:
    moment = now()
    return DvRecord.objects.create(
        entity_set=entity_set,
        record_id=record_id,
        data={"statecode": 0, "statuscode": 1, **data},
        version=next_version(),
        created_on=moment,
        modified_on=moment,
    )


# --- Rows --------------------------------------------------------------------


def find(entity_set: str, key: dict[str, Any] | str) -> DvRecord | None:
    """The live row by GUID (``str``) or by alternate key values."""
    rows = DvRecord.objects.filter(entity_set=entity_set, deleted=False)
    if isinstance(key, str):
        try:
            return rows.filter(record_id=uuid.UUID(key)).first()
        except ValueError:
            return None
    for row in rows.order_by("id"):
        if all(_same(row.data.get(k), v) for k, v in key.items()):
            return row
    return None


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, str) and isinstance(wanted, str):
        return stored.lower() == wanted.lower()
    return stored == wanted


def create(entity_set: str, record_id: str, data: dict[str, Any]) -> DvRecord:
    """Insert a row (a tombstone with the same id comes back to life)."""
    moment = now()
    data = {"statecode": 0, "statuscode": 1, **data}
    row, _ = DvRecord.objects.update_or_create(
        entity_set=entity_set,
        record_id=record_id,
        defaults={
            "data": data,
            "version": next_version(),
            "created_on": moment,
            "modified_on": moment,
            "deleted": False,
        },
    )
    return row


def update(row: DvRecord, changes: dict[str, Any]) -> DvRecord:
    row.data = {**row.data, **changes}
    row.version = next_version()
    row.modified_on = now()
    row.save(update_fields=["data", "version", "modified_on"])
    return row


def delete(row: DvRecord) -> None:
    row.deleted = True
    row.version = next_version()
    row.modified_on = now()
    row.save(update_fields=["deleted", "version", "modified_on"])


def live_rows(entity_set: str) -> list[DvRecord]:
    return list(
        DvRecord.objects.filter(entity_set=entity_set, deleted=False).order_by("id")
    )


def changes_since(entity_set: str, token: int) -> list[DvRecord]:
    return list(
        DvRecord.objects.filter(entity_set=entity_set, version__gt=token).order_by(
            "version"
        )
    )


def current_token() -> int:
    return DvRecord.objects.aggregate(top=Max("version"))["top"] or 0


# --- Settings, tokens, faults ----------------------------------------------------


def setting(name: str, default: int) -> int:
    row = DvSetting.objects.filter(name=name).first()
    return int(row.value) if row else default


def set_setting(name: str, value: int) -> None:
    DvSetting.objects.update_or_create(name=name, defaults={"value": str(value)})


def issue_token(client_id: str) -> tuple[str, int]:
    lifetime = setting("token_lifetime", DEFAULT_TOKEN_LIFETIME)
    payload = {
        "cid": client_id,
        "gen": setting("token_generation", 0),
        "exp": time.time() + lifetime,
        "n": uuid.uuid4().hex[:8],
    }
    return signing.dumps(payload, salt=TOKEN_SALT), lifetime


def token_valid(token: str) -> bool:
    """A token this emulator issued, not expired and not revoked."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return False
    return payload.get("exp", 0) > time.time() and payload.get("gen") == setting(
        "token_generation", 0
    )


def take_fault() -> DvFault | None:
    with transaction.atomic():
        fault = DvFault.objects.select_for_update().order_by("id").first()
        if fault is None:
            return None
        if fault.remaining <= 1:
            fault.delete()
        else:
            DvFault.objects.filter(pk=fault.pk).update(remaining=fault.remaining - 1)
        return fault
