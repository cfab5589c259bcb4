"""Prometheus metrics, gathered from the database at scrape time.

Reading state at scrape time (instead of counting in process memory) gives the
same answer whichever web process answers, and survives restarts.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from xconnector import health


class PlatformCollector(Collector):
    """Database, broker and worker health as gauges."""

    def collect(self) -> Iterator[Metric]:
        database = health.check_database()
        broker = health.check_broker()
        yield GaugeMetricFamily(
            "xconnector_database_up", "1 when the database answers.", value=database.ok
        )
        yield GaugeMetricFamily(
            "xconnector_broker_up",
            "1 when the message broker answers.",
            value=broker.ok,
        )
        if not database.ok:
            return
        workers = health.worker_status()
        yield GaugeMetricFamily(
            "xconnector_workers_alive",
            "Workers that sent a heartbeat recently.",
            value=workers.workers,
        )
        if workers.age_seconds is not None:
            yield GaugeMetricFamily(
                "xconnector_worker_heartbeat_age_seconds",
                "Seconds since the newest worker heartbeat.",
                value=workers.age_seconds,
            )


def build_registry() -> CollectorRegistry:
    from audit.metrics import AuditCollector

    registry = CollectorRegistry()
    registry.register(PlatformCollector())
    registry.register(AuditCollector())
    return registry


def render() -> tuple[bytes, str]:
    return generate_latest(build_registry()), CONTENT_TYPE_LATEST
