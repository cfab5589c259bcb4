"""/healthz tells a load balancer and an operator whether the platform works."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from xconnector.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthy_platform_answers_ok_with_each_part(client):
    WorkerHeartbeat.objects.create(worker="celery@a", seen_at=timezone.now())

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["detail"] in {"SQLite answers", "PostgreSQL answers"}
    assert body["broker"]["ok"] is True
    assert body["broker"]["detail"] in {"The queue folder is writable", "Redis answers"}
    assert body["worker"]["ok"] is True
    assert body["worker"]["workers"] == 1
    assert body["worker"]["detail"] == "1 worker reporting"


def test_no_worker_yet_is_degraded_but_still_serves(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"]["detail"] == "No worker has reported yet."


def test_silent_worker_is_reported_with_how_long(client, settings):
    settings.XCONNECTOR_HEARTBEAT_INTERVAL = 30
    WorkerHeartbeat.objects.create(
        worker="celery@a", seen_at=timezone.now() - timedelta(minutes=10)
    )

    body = client.get("/healthz").json()

    assert body["status"] == "degraded"
    assert body["worker"]["ok"] is False
    assert body["worker"]["detail"] == "No worker has reported for 10 minutes."


def test_unwritable_queue_folder_is_down_with_503(client, settings, tmp_path):
    settings.CELERY_BROKER_IS_FILESYSTEM = True
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_out": str(tmp_path / "missing"),
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["broker"]["detail"] == (
        f"The queue folder {tmp_path / 'missing'} is missing or read-only."
    )


def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-store" in response["Cache-Control"]
