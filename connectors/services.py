"""The only way to create, change, test and delete connections.

Views, the API and commands call these; each writes its audit event in the
same transaction as the change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from pydantic import ValidationError

from audit import services as audit
from connectors import crypto
from connectors.base import CHECK_TIMEOUT, SEP, describe_errors
from connectors.errors import AuthError, ConnectorError
from connectors.models import Connection, ConnectionStatus
from connectors.registry import get_connector

logger = logging.getLogger(__name__)


class InvalidSettings(Exception):
    """The settings do not fit the connector's Config: ``errors`` by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ConnectionInUse(Exception):
    """The connection is used by flows and cannot be deleted."""


def _validate(
    connector_key: str, settings: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate settings + secrets; return (public settings, secret values)."""
    config_class = get_connector(connector_key).Config
    try:
        config = config_class.from_parts(settings, secrets)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors(include_input=False, include_url=False):
            field = SEP.join(str(p) for p in item["loc"] if not isinstance(p, int))
            field = field or "__all__"
            errors.setdefault(field, item["msg"])
        raise InvalidSettings(errors) from None
    return config.public_settings(), config.secret_values()


def create_connection(
    actor: audit.Actor,
    *,
    connector_key: str,
    name: str,
    settings: Mapping[str, Any],
    secrets: Mapping[str, str],
    description: str = "",
    user: Any = None,
) -> Connection:
    public, secret_values = _validate(connector_key, settings, secrets)
    now = timezone.now().isoformat()
    with transaction.atomic():
        connection = Connection.objects.create(
            connector_key=connector_key,
            name=name,
            description=description,
            settings=public,
            secrets_encrypted=crypto.encrypt(secret_values),
            secrets_set_at=dict.fromkeys(secret_values, now),
            created_by=user,
            updated_by=user,
        )
        audit.record_config_change(
            actor,
            object_type="Connection",
            object_id=connection.pk,
            object_name=connection.name,
            before=None,
            after=connection.audit_view(),
            connection_id=connection.pk,
            system=connector_key,
        )
    return connection


def update_connection(
    actor: audit.Actor,
    connection: Connection,
    *,
    name: str,
    settings: Mapping[str, Any],
    new_secrets: Mapping[str, str],
    description: str = "",
    user: Any = None,
) -> Connection:
    """Change a connection. Secrets not in ``new_secrets`` keep their value.

    Any change sends the connection back to "not tested yet".
    """
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        before = connection.audit_view()
        stored = connection.secrets()
        replaced = {k: v for k, v in new_secrets.items() if v and stored.get(k) != v}
        public, secret_values = _validate(
            connection.connector_key, settings, {**stored, **replaced}
        )
        now = timezone.now().isoformat()
        set_at = {
            key: now if key in replaced else connection.secrets_set_at.get(key, now)
            for key in secret_values
        }
        changed = (
            public != connection.settings
            or set_at != connection.secrets_set_at
            or name != connection.name
            or description != connection.description
        )
        if not changed:
            return connection
        connection.name = name
        connection.description = description
        connection.settings = public
        connection.secrets_encrypted = crypto.encrypt(secret_values)
        connection.secrets_set_at = set_at
        connection.status = ConnectionStatus.UNTESTED
        connection.last_check_message = ""
        connection.updated_by = user
        connection.save()
        audit.record_config_change(
            actor,
            object_type="Connection",
            object_id=connection.pk,
            object_name=connection.name,
            before=before,
            after=connection.audit_view(),
            connection_id=connection.pk,
            system=connection.connector_key,
        )
    return connection


def delete_connection(actor: audit.Actor, connection: Connection) -> None:
    """Delete a connection that no flow uses; else ``ConnectionInUse``."""
    with transaction.atomic():
        before = connection.audit_view()
        pk, name, key = connection.pk, connection.name, connection.connector_key
        try:
            connection.delete()
        except ProtectedError as error:
            users = sorted({str(obj) for obj in error.protected_objects})
            raise ConnectionInUse(
                f"“{name}” is used by {_names(users)}: change "
                f"{'them' if len(users) > 1 else 'it'} to another connection first."
            ) from None
        audit.record_config_change(
            actor,
            object_type="Connection",
            object_id=pk,
            object_name=name,
            before=before,
            after=None,
            connection_id=pk,
            system=key,
        )


def _names(items: list[str]) -> str:
    quoted = [f"“{item}”" for item in items]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    message: str


def check_connection(connection: Connection) -> CheckOutcome:
    """Run the connector's check (at most CHECK_TIMEOUT seconds) and keep the
    result on the connection."""
    connection.refresh_from_db()
    try:
        connector = connection.connector()
    except ValidationError as error:
        outcome = CheckOutcome(
            False, f"The settings are not valid: {describe_errors(error)}"
        )
    except (crypto.SecretsUnreadable, ConnectorError) as error:
        outcome = CheckOutcome(False, str(error))
    else:
        outcome = _run_check(connector)
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.HEALTHY if outcome.ok else ConnectionStatus.FAILING,
        last_checked_at=timezone.now(),
        last_check_message=outcome.message[:1000],
    )
    connection.refresh_from_db()
    return outcome


def _run_check(connector: Any) -> CheckOutcome:
    # A thread, so that a system that never answers cannot hold the page
    # beyond CHECK_TIMEOUT; connectors set their own shorter timeouts too.
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(connector.check)
    try:
        result = future.result(timeout=CHECK_TIMEOUT)
    except FutureTimeout:
        return CheckOutcome(
            False,
            f"{connector.label} did not answer within {CHECK_TIMEOUT} seconds: "
            "check the address and that the system is running.",
        )
    except ConnectorError as error:
        return CheckOutcome(False, str(error))
    except Exception:
        logger.exception("check of %s failed unexpectedly", connector.label)
        return CheckOutcome(
            False, f"The check of {connector.label} failed unexpectedly; see the log."
        )
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return CheckOutcome(True, result.message)


def mark_auth_failure(connection_id: int, error: AuthError) -> None:
    """An action met rejected credentials: show the connection as failing."""
    Connection.objects.filter(pk=connection_id).update(
        status=ConnectionStatus.FAILING,
        last_checked_at=timezone.now(),
        last_check_message=str(error)[:1000],
    )


def rotate_keys() -> int:
    """Re-encrypt every connection's secrets with the newest key."""
    count = 0
    for pk in Connection.objects.exclude(secrets_encrypted="").values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            connection = Connection.objects.select_for_update().get(pk=pk)
            rotated = crypto.rotate(connection.secrets_encrypted)
            Connection.objects.filter(pk=pk).update(secrets_encrypted=rotated)
            count += 1
    return count
