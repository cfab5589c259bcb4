"""Connections: validated, secrets encrypted and masked, audited, rotatable."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from audit.models import AuditEvent, EventType
from audit.services import Actor
from connectors import crypto, services
from connectors.models import Connection, ConnectionStatus

pytestmark = pytest.mark.django_db
ADA = Actor("user", "ada", 1)
SETTINGS = {
    "base_url": "https://erp.example.com",
    "tags": ["finance"],
    "auth": {"type": "basic", "username": "svc-xc"},
}
SECRETS = {"api_key": "key-SHOULD-NOT-LEAK", "auth__password": "pw-SHOULD-NOT-LEAK"}


def create(**overrides):
    arguments = {
        "connector_key": "sample",
        "name": "ERP (prod)",
        "settings": SETTINGS,
        "secrets": SECRETS,
    } | overrides
    return services.create_connection(ADA, **arguments)


def test_secrets_are_stored_encrypted_and_apart_from_the_settings(sample_connector):
    connection = create()

    stored = Connection.objects.get(pk=connection.pk)
    assert stored.settings == {
        "base_url": "https://erp.example.com",
        "region": "eu",
        "tags": ["finance"],
        "auth": {"type": "basic", "username": "svc-xc"},
    }
    assert "LEAK" not in stored.secrets_encrypted
    assert stored.secrets() == SECRETS
    assert sorted(stored.secrets_set_at) == ["api_key", "auth__password"]
    config = stored.config()
    assert config.auth.password.get_secret_value() == "pw-SHOULD-NOT-LEAK"
    assert stored.status == ConnectionStatus.UNTESTED


def test_invalid_settings_are_refused_field_by_field(sample_connector):
    with pytest.raises(services.InvalidSettings) as raised:
        create(settings={"region": "mars", "auth": {"type": "basic"}}, secrets={})

    assert raised.value.errors == {
        "base_url": "Field required",
        "region": "Input should be 'eu' or 'us'",
        "auth__basic__username": "Field required",
        "auth__basic__password": "Field required",
    }
    assert Connection.objects.count() == 0


def test_create_change_and_delete_are_audited_without_secret_values(sample_connector):
    connection = create()
    services.update_connection(
        ADA,
        connection,
        name="ERP (production)",
        settings={**SETTINGS, "region": "us"},
        new_secrets={"auth__password": "new-pw-SHOULD-NOT-LEAK"},
    )
    services.delete_connection(ADA, Connection.objects.get(pk=connection.pk))

    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.event_type for e in events] == [EventType.CONFIG_CHANGED] * 3
    assert [e.summary for e in events] == [
        "Connection “ERP (prod)” created",
        "Connection “ERP (production)” changed",
        "Connection “ERP (production)” deleted",
    ]
    changed = events[1].payload["changed"]
    assert changed["name"] == {"before": "ERP (prod)", "after": "ERP (production)"}
    assert changed["secret:auth__password"] == {
        "before": "(secret changed)",
        "after": "(secret changed)",
    }
    assert "secret:api_key" not in changed
    everything = json.dumps([e.payload for e in events])
    assert "LEAK" not in everything


def test_an_unchanged_save_keeps_the_status_and_writes_no_event(sample_connector):
    connection = create()
    Connection.objects.filter(pk=connection.pk).update(status=ConnectionStatus.HEALTHY)
    connection.refresh_from_db()

    services.update_connection(
        ADA, connection, name="ERP (prod)", settings=SETTINGS, new_secrets={}
    )

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.HEALTHY
    assert connection.secrets() == SECRETS
    assert AuditEvent.objects.count() == 1


def test_check_records_success_and_failure(sample_connector):
    connection = create()

    outcome = services.check_connection(connection)
    assert outcome.ok is True
    assert connection.status == ConnectionStatus.HEALTHY
    assert connection.last_check_message == "Reached https://erp.example.com"

    services.update_connection(
        ADA,
        connection,
        name="ERP (prod)",
        settings=SETTINGS,
        new_secrets={"auth__password": "wrong"},
    )
    outcome = services.check_connection(connection)
    assert outcome.ok is False
    assert connection.status == ConnectionStatus.FAILING
    assert connection.last_check_message == (
        "Sample system refused the user name or password."
    )


def test_rotate_keys_lets_the_old_key_be_removed(sample_connector, settings, capsys):
    old_key = settings.XCONNECTOR_FERNET_KEYS[0]
    connection = create()
    new_key = Fernet.generate_key().decode()

    settings.XCONNECTOR_FERNET_KEYS = [new_key, old_key]
    call_command("rotate_keys")
    settings.XCONNECTOR_FERNET_KEYS = [new_key]

    assert Connection.objects.get(pk=connection.pk).secrets() == SECRETS
    assert "1 connection(s) re-encrypted" in capsys.readouterr().out


def test_without_the_old_key_secrets_are_unreadable_with_a_clear_message(
    sample_connector, settings
):
    connection = create()
    settings.XCONNECTOR_FERNET_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(crypto.SecretsUnreadable, match="put back the key"):
        Connection.objects.get(pk=connection.pk).secrets()
    outcome = services.check_connection(connection)
    assert outcome.ok is False
    assert "cannot be decrypted" in outcome.message


def test_a_section_sent_as_text_is_refused_by_its_fields(sample_connector):
    with pytest.raises(services.InvalidSettings) as raised:
        create(settings={"base_url": "https://erp.example.com", "auth": "basic"})

    assert list(raised.value.errors) == ["auth"]
