"""/metrics speaks the Prometheus text format."""

from __future__ import annotations

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from xconnector.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_report_database_broker_and_workers(client):
    WorkerHeartbeat.objects.create(worker="celery@a", seen_at=timezone.now())
    WorkerHeartbeat.objects.create(worker="celery@b", seen_at=timezone.now())

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    values = samples(response.content.decode())
    assert values["xconnector_database_up"] == 1.0
    assert values["xconnector_broker_up"] == 1.0
    assert values["xconnector_workers_alive"] == 2.0
    assert 0 <= values["xconnector_worker_heartbeat_age_seconds"] < 60


def test_metrics_token_is_required_when_configured(client, settings):
    settings.XCONNECTOR_METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
    )
