"""Audit chain gauges for /metrics: alert when xconnector_audit_chain_ok is 0."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from audit.models import ChainHead, VerificationRun


class AuditCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        head = ChainHead.objects.filter(pk=1).values_list("sequence", flat=True).first()
        yield GaugeMetricFamily(
            "xconnector_audit_events", "Events in the audit chain.", value=head or 0
        )
        run = VerificationRun.objects.order_by("-finished_at").first()
        if run is None:
            return
        yield GaugeMetricFamily(
            "xconnector_audit_chain_ok",
            "1 when the last verification found the chain intact, 0 when broken.",
            value=run.ok,
        )
        yield GaugeMetricFamily(
            "xconnector_audit_verified_sequence",
            "Newest event covered by the last verification.",
            value=run.last_sequence,
        )
        yield GaugeMetricFamily(
            "xconnector_audit_last_verification_timestamp_seconds",
            "When the chain was last verified (Unix time).",
            value=run.finished_at.timestamp(),
        )
