"""The emulator's seeded communications, tokens, faults and clock settings.

The sandbox client (``xconnector`` / ``sandbox-secret``) is a public demo
value, not a secret. Two settings, read on every call so tests can change
them: ``XCONNECTOR_SANDBOX_EXSTREAM_TOKEN_SECONDS`` (token lifetime,
default 900: OTDS's 15 minutes) and ``XCONNECTOR_SANDBOX_EXSTREAM_JOB_SECONDS``
(how long a batch job takes, default 3).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.exstream.sandbox.models import (
    CommunicationState,
    ExstreamCommunication,
    ExstreamFault,
    ExstreamToken,
)

SANDBOX_CLIENT_ID = "xconnector"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 -- public demo value
VERSION = {
    "apiIdentifier": "orchestration",
    "major": 25,
    "minor": 2,
    "patch": 0,
    "versionString": "25.2.0",
}

INVOICE_LETTER = uuid.UUID("6f1c2b7e-5a43-4d1e-9b0a-1c2d3e4f5a01")
WELCOME_LETTER = uuid.UUID("6f1c2b7e-5a43-4d1e-9b0a-1c2d3e4f5a02")
CONTRACT_RENEWAL = uuid.UUID("6f1c2b7e-5a43-4d1e-9b0a-1c2d3e4f5a03")
CASE_DECISION = uuid.UUID("6f1c2b7e-5a43-4d1e-9b0a-1c2d3e4f5a04")

SEED: list[dict[str, Any]] = [
    {
        "id": INVOICE_LETTER,
        "name": "Invoice letter",
        "description": "Monthly invoice with the amount due.",
        "state": CommunicationState.APPROVED,
        "service_name": "InvoiceBatch",
        "required_fields": [
            "customerNumber",
            "customerName",
            "invoiceNumber",
            "amount",
            "dueDate",
        ],
        "optional_fields": ["email", "phone", "currency"],
        "content_blocks": {
            "greeting": "Dear {customerName},",
            "body": "Please find invoice {invoiceNumber} for {amount} {currency}, "
            "due on {dueDate}.",
            "closing": "Kind regards,\nAcme Billing",
            "sms": "Invoice {invoiceNumber}: {amount} {currency} due {dueDate}.",
        },
        "queues": ["PDF", "EMAIL", "PORTAL"],
    },
    {
        "id": WELCOME_LETTER,
        "name": "Welcome letter",
        "description": "Greets a new customer.",
        "state": CommunicationState.APPROVED,
        "service_name": "WelcomeBatch",
        "required_fields": ["customerNumber", "customerName"],
        "optional_fields": ["email", "phone", "product"],
        "content_blocks": {
            "greeting": "Dear {customerName},",
            "body": "Welcome to Acme. Your customer number is {customerNumber}.",
            "closing": "Kind regards,\nAcme Customer Care",
            "sms": "Welcome to Acme, {customerName}! Customer no. {customerNumber}.",
        },
        "queues": ["PDF", "EMAIL", "SMS"],
    },
    {
        "id": CONTRACT_RENEWAL,
        "name": "Contract renewal",
        "description": "Offers the renewal of a contract.",
        "state": CommunicationState.REVIEW,
        "service_name": "RenewalBatch",
        "required_fields": [
            "customerNumber",
            "customerName",
            "contractNumber",
            "renewalDate",
        ],
        "optional_fields": ["email", "price"],
        "content_blocks": {
            "greeting": "Dear {customerName},",
            "body": "Your contract {contractNumber} can be renewed on {renewalDate}.",
            "closing": "Kind regards,\nAcme Contracts",
        },
        "queues": ["PDF", "PRINT"],
    },
    {
        "id": CASE_DECISION,
        "name": "Case decision",
        "description": "Tells a customer what was decided on their case.",
        "state": CommunicationState.APPROVED,
        "service_name": "CaseBatch",
        "required_fields": ["customerName", "caseNumber", "decision"],
        "optional_fields": ["customerNumber", "email", "dueDate"],
        "content_blocks": {
            "greeting": "Dear {customerName},",
            "body": "About your case {caseNumber}: {decision}",
            "closing": "Kind regards,\nAcme Claims",
        },
        "queues": ["PDF", "EMAIL", "PRINT"],
    },
]


def ensure_seed() -> None:
    """Create the demo communications once (after a database flush too)."""
    if ExstreamCommunication.objects.filter(id=INVOICE_LETTER).exists():
        return
    now = timezone.now()
    for item in SEED:
        try:
            with transaction.atomic():
                ExstreamCommunication.objects.get_or_create(
                    id=item["id"], defaults={**item, "modified": now}
                )
        except IntegrityError:
            pass  # another request seeded it at the same moment


def token_seconds() -> float:
    return float(getattr(settings, "XCONNECTOR_SANDBOX_EXSTREAM_TOKEN_SECONDS", 900))


def job_seconds() -> float:
    return float(getattr(settings, "XCONNECTOR_SANDBOX_EXSTREAM_JOB_SECONDS", 3))


def issue_token(client_id: str) -> ExstreamToken:
    now = timezone.now()
    return ExstreamToken.objects.create(
        value=secrets.token_urlsafe(32),
        client_id=client_id,
        created=now,
        expires_at=now + timedelta(seconds=token_seconds()),
    )


def valid_token(header: str) -> ExstreamToken | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    token = ExstreamToken.objects.filter(value=value.strip()).first()
    if token is None or token.expires_at <= timezone.now():
        return None
    return token


def take_fault() -> ExstreamFault | None:
    """The oldest queued fault, counted down by one (atomically)."""
    with transaction.atomic():
        fault = (
            ExstreamFault.objects.select_for_update().filter(remaining__gt=0).first()
        )
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining:
            fault.save(update_fields=["remaining"])
        else:
            fault.delete()
        return fault
