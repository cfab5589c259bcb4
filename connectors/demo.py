"""Demo connections for the embedded mode, pointing at the built-in emulators.

``manage.py seed_demo`` creates them once (by name); production never does.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from audit.services import Actor
from connectors import services
from connectors.models import Connection

PRINT_PROVIDER = "Print provider (sandbox folder)"
SMS_GATEWAY = "SMS gateway (sandbox)"
EXSTREAM_EVENTS_SECRET = "sandbox-delivery-events"  # noqa: S105 - demo value


def demo_connections(base_url: str) -> list[dict[str, Any]]:
    sandbox = f"{base_url.rstrip('/')}/sandbox"
    webhook_key = base64.b64encode(secrets.token_bytes(24)).decode()
    return [
        {
            "connector_key": "otcs",
            "name": "Content Server (sandbox)",
            "description": "The emulated OpenText Content Server under /sandbox/otcs/.",
            "settings": {"base_url": f"{sandbox}/otcs/api/", "username": "admin"},
            # The emulator's public demo login, not a real credential.
            "secrets": {"password": "sandbox-admin"},
        },
        {
            "connector_key": "http",
            "name": "Orders API (sandbox)",
            "description": "The emulated orders REST API under /sandbox/http/.",
            "settings": {
                "base_url": f"{sandbox}/http/",
                "health_path": "secure/orders",
                "auth": {"type": "bearer"},
            },
            # A public value of the emulator, not a real credential.
            "secrets": {"auth__token": "sandbox-token"},
        },
        {
            "connector_key": "webhook",
            "name": "Partner webhooks",
            "description": "Signed deliveries (Standard Webhooks) from partners.",
            "settings": {"verification": "standard_webhooks"},
            "secrets": {"secret": f"whsec_{webhook_key}"},
        },
        {
            "connector_key": "email",
            "name": "Notifications (local outbox)",
            "description": "E-mails stay in the demo's outbox; nothing is sent.",
            "settings": {
                "mode": "outbox",
                "from_address": "xconnector@demo.xconnector.local",
            },
            "secrets": {},
        },
        {
            "connector_key": "files",
            "name": "Scanner drop folder",
            "description": "PDFs from the mail-room scanner.",
            "settings": {"folder": "inbox/scans", "pattern": "*.pdf"},
            "secrets": {},
        },
        {
            "connector_key": "dynamics",
            "name": "Dynamics 365 (sandbox)",
            "description": "The emulated Dataverse Web API under /sandbox/dynamics/.",
            "settings": {
                "environment_url": f"{sandbox}/dynamics",
                "authority_host": f"{sandbox}/dynamics",
                "tenant": "contoso",
                "client_id": "sandbox-client",
            },
            # The emulator's public demo client, not a real credential.
            "secrets": {"client_secret": "sandbox-secret"},
        },
        {
            "connector_key": "exstream",
            "name": "Exstream (sandbox)",
            "description": "The emulated Exstream service under /sandbox/exstream/.",
            "settings": {
                "base_url": f"{sandbox}/exstream/",
                "client_id": "xconnector",
                "domain": "sandbox",
            },
            "secrets": {
                "client_secret": "sandbox-secret",
                "webhook_secret": EXSTREAM_EVENTS_SECRET,
            },
        },
        {
            "connector_key": "tradinggrid",
            "name": "Trading Grid (sandbox)",
            "description": "Demo Supplier Inc.'s mailbox on the emulated Trading Grid.",
            "settings": {
                "base_url": f"{sandbox}/tradinggrid/",
                "company_id": "GC00804444LX",
                "edi_address": "ZZ:DEMOSUPPLIER",
                "consumer_key": "sandbox-consumer",
            },
            "secrets": {"consumer_secret": "sandbox-secret"},
        },
        {
            "connector_key": "files",
            "name": PRINT_PROVIDER,
            "description": "The folder the print provider collects letters from.",
            "settings": {"folder": "outbound/print"},
            "secrets": {},
        },
        {
            "connector_key": "http",
            "name": SMS_GATEWAY,
            "description": "The emulated SMS gateway under /sandbox/http/sms/.",
            "settings": {"base_url": f"{sandbox}/http/", "health_path": "health"},
            "secrets": {},
        },
    ]


def _addresses(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that hold the demo server's address."""
    return {
        key: value
        for key, value in settings.items()
        if key in ("base_url", "environment_url", "authority_host")
    }


def seed_demo_connections(base_url: str) -> list[Connection]:
    """Create the demo connections that do not exist yet, point the existing
    ones at ``base_url``; return all of them."""
    actor = Actor.system("demo seed")
    result = []
    for spec in demo_connections(base_url):
        existing = Connection.objects.filter(name=spec["name"]).first()
        if existing is None:
            existing = services.create_connection(actor, **spec)
        elif any(
            existing.settings.get(key) != value
            for key, value in _addresses(spec["settings"]).items()
        ):
            # The demo now answers on another address (make run BIND=...).
            existing = services.update_connection(
                actor,
                existing,
                name=existing.name,
                description=existing.description,
                settings={**existing.settings, **_addresses(spec["settings"])},
                new_secrets={},
            )
        result.append(existing)
    return result
