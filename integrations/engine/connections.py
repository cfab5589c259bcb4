"""Connectors for the steps of runs, reused while their connection is unchanged.

Building a connector decrypts secrets and validates settings; keeping it
also keeps its signed-in session (a Content Server ticket, an OAuth token),
which saves a sign-in per run. Each worker thread keeps its own, since a
connector's HTTP session is not meant to be shared between threads; a
connection that was edited since (``updated_at``) is built afresh.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from connectors.base import Connector
from connectors.errors import PermanentError
from connectors.models import Connection
from integrations.models import RateWindow

_local = threading.local()


RECHECK = 5.0  # seconds between looks at a cached connection's updated_at


def connector_for(connection_id: int) -> tuple[Connection, Connector]:
    """The connection and a ready connector; PermanentError if it is gone.

    A cached connector is used as it is for ``RECHECK`` seconds; after that
    one query tells whether the connection was edited (or deleted) since.
    """
    cache: dict[int, list[Any]] = _local.__dict__.setdefault("connectors", {})
    now = time.monotonic()
    cached = cache.get(connection_id)
    if cached and now - cached[3] < RECHECK:
        return cached[1], cached[2]
    updated = (
        Connection.objects.filter(pk=connection_id)
        .values_list("updated_at", flat=True)
        .first()
    )
    if updated is None:
        cache.pop(connection_id, None)
        raise PermanentError(
            "The connection this step uses was deleted: choose another one in "
            "the flow and publish it again."
        )
    if cached and cached[0] == updated:
        cached[3] = now
        return cached[1], cached[2]
    connection = Connection.objects.get(pk=connection_id)
    try:
        connector = connection.connector()
    except PermanentError:
        raise
    except Exception as error:  # unreadable secrets, settings of an old version
        raise PermanentError(
            f"The connection “{connection.name}” cannot be used: {error}. "
            "Open it, check its settings and save it again."
        ) from None
    cache[connection_id] = [connection.updated_at, connection, connector, now]
    return connection, connector


def forget_connectors() -> None:
    """Drop this thread's connectors (tests; after a fork)."""
    _local.__dict__.pop("connectors", None)


def wait_for_rate_limit(connection: Connection) -> float:
    """Count one call to ``connection``; return 0, or the seconds to wait.

    A fixed one-minute window per connection, counted in the database so all
    workers on all machines share it.
    """
    limit = connection.rate_limit_per_minute
    if not limit:
        return 0.0
    now = timezone.now()
    window = now.replace(second=0, microsecond=0)
    RateWindow.objects.bulk_create(
        [RateWindow(connection_id=connection.pk, window_start=window)],
        ignore_conflicts=True,
    )
    counted = RateWindow.objects.filter(
        connection_id=connection.pk, window_start=window, calls__lt=limit
    ).update(calls=F("calls") + 1)
    if counted:
        return 0.0
    return (window + timedelta(minutes=1) - now).total_seconds() + 0.05


def forget_rate_windows(before: datetime | None = None) -> int:
    """Delete windows older than an hour (the sweeper calls this)."""
    cutoff = before or timezone.now() - timedelta(hours=1)
    deleted, _ = RateWindow.objects.filter(window_start__lt=cutoff).delete()
    return deleted


__all__ = [
    "connector_for",
    "forget_connectors",
    "forget_rate_windows",
    "wait_for_rate_limit",
]
