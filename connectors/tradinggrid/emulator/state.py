"""The emulated network's fixed demo data, tokens and injected faults.

Three companies are seeded. Our demo company (the supplier the sandbox
connection signs in as) trades with a demo retailer that speaks X12 and a
demo distributor that speaks EDIFACT; both are scripted partners
(``partners``). The consumer keys and secrets below are public demo
values, not secrets.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connectors.tradinggrid.sandbox.models import TgFault, TgToken

DEFAULT_TOKEN_SECONDS = 36_000  # "about 10 hours" [V]


@dataclass(frozen=True)
class Company:
    """A company on the network (a BUID) and its EDI address."""

    id: str
    name: str
    address: str
    standard: str
    consumer_key: str
    consumer_secret: str
    city: str


SUPPLIER = Company(
    "GC00804444LX",
    "Demo Supplier Inc.",
    "ZZ:DEMOSUPPLIER",
    "X12",
    "sandbox-consumer",
    "sandbox-secret",
    "Gaithersburg",
)
RETAILER = Company(
    "GC00900001RT",
    "Demo Retailer Corp.",
    "ZZ:DEMORETAILER",
    "X12",
    "sandbox-retailer",
    "sandbox-retailer-secret",
    "Chicago",
)
DISTRIBUTOR = Company(
    "GC00900002DS",
    "Demo Distributor GmbH",
    "ZZZ:DEMODIST",
    "EDIFACT",
    "sandbox-distributor",
    "sandbox-distributor-secret",
    "Hamburg",
)
COMPANIES = {c.id: c for c in (SUPPLIER, RETAILER, DISTRIBUTOR)}
# Who trades with whom: the partner directory of each company.
PARTNERS = {
    SUPPLIER.id: [RETAILER.id, DISTRIBUTOR.id],
    RETAILER.id: [SUPPLIER.id],
    DISTRIBUTOR.id: [SUPPLIER.id],
}


def company_by_address(address: str) -> Company | None:
    """The company with EDI address ``address`` (case-insensitive)."""
    wanted = address.strip().upper()
    for company in COMPANIES.values():
        if company.address.upper() == wanted:
            return company
    return None


def company_by_key(key: str, secret: str) -> Company | None:
    """The company of a consumer key and secret, or None."""
    for company in COMPANIES.values():
        if secrets.compare_digest(company.consumer_key, key) and secrets.compare_digest(
            company.consumer_secret, secret
        ):
            return company
    return None


def token_seconds() -> int:
    """Token lifetime; ``XCONNECTOR_SANDBOX_TRADINGGRID_TOKEN_SECONDS`` shortens it."""
    return int(
        getattr(
            settings,
            "XCONNECTOR_SANDBOX_TRADINGGRID_TOKEN_SECONDS",
            DEFAULT_TOKEN_SECONDS,
        )
    )


def issue_token(company: Company) -> TgToken:
    return TgToken.objects.create(
        value=secrets.token_urlsafe(40),
        company_id=company.id,
        expires=timezone.now() + timedelta(seconds=token_seconds()),
    )


def company_of_token(value: str) -> Company | None:
    """The company a fresh token was issued to, else None."""
    if not value:
        return None
    token = TgToken.objects.filter(value=value, expires__gt=timezone.now()).first()
    return COMPANIES.get(token.company_id) if token else None


def expire_tokens() -> int:
    """Sandbox only: every token expires now (tests of the renewal)."""
    return TgToken.objects.update(expires=timezone.now() - timedelta(seconds=1))


def take_fault() -> TgFault | None:
    """Consume one queued failure, if any."""
    with transaction.atomic():
        fault = TgFault.objects.filter(remaining__gt=0).order_by("id").first()
        if fault is None:
            return None
        taken = TgFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        TgFault.objects.filter(remaining__lte=0).delete()
    return fault if taken else None
