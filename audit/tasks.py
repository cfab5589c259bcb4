"""Periodic re-verification of the audit chain."""

from __future__ import annotations

import logging

from celery import shared_task

from audit import services

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.verify_new_events", ignore_result=True)
def verify_new_events() -> None:
    """Verify the events recorded since the last good verification."""
    run = services.verify_and_store()
    if not run.ok:
        # The alert itself is the xconnector_audit_chain_ok metric going to 0.
        logger.error("AUDIT CHAIN BROKEN: %s", run.detail)
