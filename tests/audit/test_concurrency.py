"""Writers in parallel never fork the chain."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from audit import services
from audit.models import AuditEvent, ChainHead, EventType
from audit.services import Actor

WRITERS = 6
EVENTS_EACH = 15


def write_in_parallel(events_each: int) -> list[BaseException]:
    """WRITERS threads, released together, each recording ``events_each``
    events in transactions of their own; the errors they met."""
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        try:
            start.wait()
            for n in range(events_each):
                with transaction.atomic():
                    services.record(
                        EventType.DOCUMENT_TRANSFERRED,
                        Actor.system(f"worker-{number}"),
                        document_ref=f"doc-{number}-{n}",
                    )
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_build_one_unbroken_chain():
    assert write_in_parallel(EVENTS_EACH) == []

    total = WRITERS * EVENTS_EACH
    assert list(
        AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)
    ) == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total
    result = services.verify_chain()
    assert (result.ok, result.events_verified) == (True, total)


@pytest.mark.django_db(transaction=True)
def test_writers_racing_to_re_create_a_lost_head_build_one_chain():
    # given: an empty chain whose head row is gone (as after a test flush)
    ChainHead.objects.all().delete()

    # when
    errors = write_in_parallel(1)

    # then: every writer wrote, on one chain from genesis
    assert errors == []
    assert AuditEvent.objects.count() == WRITERS
    result = services.verify_chain()
    assert (result.ok, result.events_verified) == (True, WRITERS)
