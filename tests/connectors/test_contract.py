"""The contract every registered connector keeps, checked the same way for all.

For each connector: its schemas are valid JSON Schema; a connection made
through the generated form passes "Test connection" against the
connector's emulator or a real local peer; and its secrets appear in no
page, log line, stored setting or audit event.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from audit.models import AuditEvent
from connectors import registry
from connectors.base import SEP
from connectors.models import Connection
from tests.connectors.dynamics.contract import dynamics_case
from tests.connectors.exstream.contract import exstream_case
from tests.connectors.test_email import PASSWORD as SMTP_PASSWORD
from tests.connectors.test_email import USER as SMTP_USER
from tests.connectors.test_email import start_server
from tests.connectors.tradinggrid.contract import tradinggrid_case

Case = tuple[dict[str, Any], dict[str, str]]  # settings, secrets


@pytest.fixture
def smtp_port() -> Iterator[int]:
    controller, _ = start_server()
    yield controller.port
    controller.stop()


def http_case(live_server: Any, **_: Any) -> Case:
    sandbox = f"{live_server.url}/sandbox/http/"
    return (
        {
            "base_url": sandbox,
            "health_path": "secure/orders",
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": f"{sandbox}oauth/token",
                "client_id": "sandbox-client",
            },
        },
        {"auth__client_secret": "sandbox-secret"},
    )


def webhook_case(**_: Any) -> Case:
    key = base64.b64encode(secrets.token_bytes(24)).decode()
    return {"verification": "standard_webhooks"}, {"secret": f"whsec_{key}"}


def email_case(smtp_port: int, **_: Any) -> Case:
    return (
        {
            "mode": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "username": SMTP_USER,
            "from_address": "xconnector@example.com",
        },
        {"password": SMTP_PASSWORD},
    )


def files_case(**_: Any) -> Case:
    return {"folder": "inbox/scans", "pattern": "*.pdf"}, {}


def otcs_case(live_server: Any, **_: Any) -> Case:
    return (
        {"base_url": f"{live_server.url}/sandbox/otcs/api/", "username": "admin"},
        {"password": "sandbox-admin"},
    )


CONTRACT_CASES: dict[str, Callable[..., Case]] = {
    "otcs": otcs_case,
    "http": http_case,
    "webhook": webhook_case,
    "email": email_case,
    "files": files_case,
    "dynamics": dynamics_case,
    "exstream": exstream_case,
    "tradinggrid": tradinggrid_case,
}
CONNECTORS = sorted(registry.connectors())


def form_data(settings: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The generated form's fields for nested settings (``auth__type``...)."""
    data: dict[str, str] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            data.update(form_data(value, f"{name}{SEP}"))
        elif isinstance(value, list):
            data[name] = "\n".join(map(str, value))
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


def test_every_registered_connector_has_a_contract_case():
    assert not registry.broken()
    assert sorted(CONTRACT_CASES) == CONNECTORS


@pytest.mark.parametrize("key", CONNECTORS)
def test_schemas_are_valid_json_schema(key):
    description = registry.get_connector(key).describe()

    schemas = [description["config_schema"]]
    for spec in [*description["actions"].values(), *description["triggers"].values()]:
        schemas += [spec["input"], spec["output"]]
    for schema in schemas:
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
    json.dumps(description)  # the API and the designer send it as JSON
    assert description["actions"] or description["triggers"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", CONNECTORS)
def test_check_passes_and_secrets_never_leak(
    key, admin_client, live_server, smtp_port, settings, tmp_path, caplog
):
    settings.XCONNECTOR_FILES_ROOT = tmp_path / "files"
    config, secret_values = CONTRACT_CASES[key](
        live_server=live_server, smtp_port=smtp_port
    )
    caplog.set_level("DEBUG")

    created = admin_client.post(
        f"/connections/new/settings/?connector={key}",
        {"name": f"Contract {key}", **form_data(config), **secret_values},
    )
    assert created.status_code == 302, created.content.decode()[:3000]
    connection = Connection.objects.get(name=f"Contract {key}")
    tested = admin_client.post(
        f"/connections/{connection.pk}/test/", HTTP_HX_REQUEST="true"
    ).content.decode()
    pages = [
        tested,
        admin_client.get(f"/connections/{connection.pk}/").content.decode(),
        admin_client.get("/connections/").content.decode(),
    ]

    connection.refresh_from_db()
    assert connection.status == "healthy", connection.last_check_message
    assert 'data-status="healthy"' in tested
    stored = json.dumps(
        [connection.settings, connection.last_check_message, connection.secrets_set_at]
    )
    audit = json.dumps([event.payload for event in AuditEvent.objects.all()])
    for secret in secret_values.values():
        for where, text in [
            ("a page", "".join(pages)),
            ("the log", caplog.text),
            ("the stored settings", stored),
            ("the audit trail", audit),
        ]:
            assert secret not in text, f"{key}: a secret is in {where}"
