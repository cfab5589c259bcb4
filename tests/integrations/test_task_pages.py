"""The reviewers' inbox and one task's page: tabs, filters, counts, who sees
which task, the fix form by kind, bulk actions and the query count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from integrations import services
from integrations.models import FlowRun, ReviewTask, TaskKind, TaskStatus
from tests.factories import UserFactory
from xconnector import roles

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = {
    "key": "note",
    "type": "set",
    "name": "Note the order",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}
FIELDS = {
    "amount": {"type": "integer", "title": "Amount", "description": "In cents."},
    "currency": {"type": "string", "title": "Currency", "enum": ["EUR", "USD"]},
    "customer": {"type": "string", "title": "Customer name"},
}


def manual_flow(user: Any, name: str = "Pay invoices") -> Any:
    return services.create_flow(
        name, {"trigger": {"type": "manual"}, "steps": [NOTE]}, user
    )


def new_run(flow: Any, user: Any, payload: dict[str, Any] | None = None) -> FlowRun:
    run, _ = services.start_run(flow, payload or {"order": "A-1"}, user)
    return run


def task(run: FlowRun, **fields: Any) -> ReviewTask:
    values: dict[str, Any] = {
        "kind": TaskKind.FAILED_TRANSFER,
        "run": run,
        "flow_id": run.flow_id,
        "step_key": f"step-{ReviewTask.objects.count()}",
        "queue": roles.REVIEWER,
        "title": "Pay invoices: “File the invoice” failed",
        "reason": "Content Server answered 503: it is down for maintenance.",
        "needed": {"errors": ["Content Server answered 503."]},
        "due_at": timezone.now() + timedelta(hours=4),
    }
    values.update(fields)
    return ReviewTask.objects.create(**values)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def rita(db) -> Any:
    return UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)


@pytest.fixture
def flow(admin_user, woken) -> Any:
    return manual_flow(admin_user)


# --- The inbox -------------------------------------------------------------------


def test_the_tabs_filters_and_queue_counts(rita, admin_user, flow):
    other_flow = manual_flow(admin_user, name="Archive letters")
    Group.objects.get_or_create(name="Legal")
    run = new_run(flow, admin_user)
    mine = task(run, assignee=rita, status=TaskStatus.CLAIMED, system="otcs")
    late = task(
        run,
        kind=TaskKind.APPROVAL,
        title="Approve the payment of A-7",
        due_at=timezone.now() - timedelta(hours=3, minutes=5),
        business_object="invoice:A-7",
        system="d365",
    )
    other = task(new_run(other_flow, admin_user), flow_id=other_flow.pk)
    legal = task(run, queue="Legal", title="Legal only")
    done = task(run, status=TaskStatus.RESOLVED, title="Already done")
    reviewer = client_for(rita)

    default = reviewer.get("/tasks/")
    queues = reviewer.get("/tasks/?tab=queues").content.decode()
    by_kind = reviewer.get("/tasks/?tab=queues&kind=approval").content.decode()
    by_flow = reviewer.get(f"/tasks/?tab=queues&flow={other_flow.pk}").content.decode()
    by_system = reviewer.get("/tasks/?tab=queues&system=otcs").content.decode()
    by_object = reviewer.get("/tasks/?tab=queues&q=A-7").content.decode()
    overdue = reviewer.get("/tasks/?tab=queues&overdue=1").content.decode()

    # "My tasks" is the first tab when something is assigned to me
    assert default.context["tab_key"] == "mine"
    page = default.content.decode()
    assert f'data-task="{mine.pk}"' in page
    assert f'data-task="{late.pk}"' not in page
    tabs = {tab["key"]: tab["count"] for tab in default.context["tabs"]}
    assert tabs == {"mine": 1, "queues": 3}  # no "All" tab for a reviewer
    for shown in (mine, late, other):
        assert f'data-task="{shown.pk}"' in queues
    for hidden in (legal, done):
        assert f'data-task="{hidden.pk}"' not in queues
    # due first: the overdue approval leads, in red, in plain words
    assert queues.index(f'data-task="{late.pk}"') < queues.index(
        f'data-task="{mine.pk}"'
    )
    assert "Overdue by 3 hours" in queues
    assert "xc-task-overdue" in queues
    assert f'data-task="{late.pk}"' in by_kind
    assert f'data-task="{mine.pk}"' not in by_kind
    assert f'data-task="{other.pk}"' in by_flow
    assert f'data-task="{mine.pk}"' not in by_flow
    assert f'data-task="{mine.pk}"' in by_system
    assert f'data-task="{late.pk}"' not in by_system
    assert f'data-task="{late.pk}"' in by_object
    assert f'data-task="{other.pk}"' not in by_object
    assert f'data-task="{late.pk}"' in overdue
    assert f'data-task="{mine.pk}"' not in overdue
    # the side card counts my queue only, refreshed by htmx every 30 s
    counts = {item["queue"]: item for item in default.context["counts"]}
    assert set(counts) == {roles.REVIEWER}
    assert counts[roles.REVIEWER]["open"] == 3
    assert counts[roles.REVIEWER]["overdue"] == 1
    assert counts[roles.REVIEWER]["mine"] == 1
    assert 'hx-trigger="every 30s"' in page
    partial = reviewer.get("/tasks/counts/")
    assert partial.status_code == 200
    assert b'id="queue-counts"' in partial.content
    assert b"<html" not in partial.content


def test_sort_by_priority_and_the_all_tab_for_admins(admin_client, admin_user, flow):
    run = new_run(flow, admin_user)
    soon_low = task(run, priority=3, due_at=timezone.now() + timedelta(hours=1))
    later_high = task(run, priority=1, due_at=timezone.now() + timedelta(hours=9))
    legal = task(run, queue="Legal")

    by_due = admin_client.get("/tasks/?tab=all").content.decode()
    by_priority = admin_client.get("/tasks/?tab=all&sort=priority").content.decode()

    assert by_due.index(f'data-task="{soon_low.pk}"') < by_due.index(
        f'data-task="{later_high.pk}"'
    )
    assert by_priority.index(f'data-task="{later_high.pk}"') < by_priority.index(
        f'data-task="{soon_low.pk}"'
    )
    assert f'data-task="{legal.pk}"' in by_due


def test_empty_tabs_say_what_comes_there(rita):
    reviewer = client_for(rita)

    mine = reviewer.get("/tasks/?tab=mine").content.decode()
    queues = reviewer.get("/tasks/?tab=queues").content.decode()
    filtered = reviewer.get("/tasks/?tab=queues&kind=approval").content.decode()

    assert "Nothing is assigned to you." in mine
    assert "See my queues" in mine
    assert "Nothing waits in your queues." in queues
    assert "No tasks match these filters." in filtered


def test_the_inbox_takes_a_bounded_number_of_queries(
    rita, admin_user, flow, django_assert_max_num_queries
):
    run = new_run(flow, admin_user)
    for n in range(60):
        task(run, assignee=rita if n % 3 == 0 else None, business_object=f"o-{n}")
    reviewer = client_for(rita)
    reviewer.get("/tasks/?tab=queues")  # warm the session and permission cache

    with django_assert_max_num_queries(14):
        response = reviewer.get("/tasks/?tab=queues")

    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.num_pages == 2


def test_bulk_claim_says_what_was_done_and_what_could_not(rita, admin_user, flow):
    run = new_run(flow, admin_user)
    first, second = task(run), task(run)
    closed = task(run, status=TaskStatus.DISMISSED)
    reviewer = client_for(rita)

    response = reviewer.post(
        "/tasks/bulk/",
        {
            "action": "claim",
            "task": [first.pk, second.pk, closed.pk],
            "next": "/tasks/?tab=queues",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/tasks/?tab=queues"
    [message] = texts(response)
    assert message.startswith("2 done, 1 could not: ")
    assert f"task {closed.pk}" in message
    first.refresh_from_db()
    assert first.assignee == rita


def test_bulk_dismiss_needs_a_reason(rita, admin_user, flow):
    one = task(new_run(flow, admin_user))
    reviewer = client_for(rita)

    response = reviewer.post("/tasks/bulk/", {"action": "dismiss", "task": [one.pk]})

    assert "Say why" in texts(response)[0]
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN


# --- One task --------------------------------------------------------------------


def test_the_task_page_shows_what_a_reviewer_needs(rita, admin_user, flow):
    run = new_run(flow, admin_user, {"order": "A-9", "customer": "ACME"})
    one = task(
        run,
        kind=TaskKind.INCOMPLETE_METADATA,
        needed={"fields": FIELDS, "errors": ["The amount is missing."]},
        due_at=timezone.now() - timedelta(hours=2, minutes=10),
        business_object="invoice:A-9",
    )
    UserFactory(username="rolf", role=roles.REVIEWER)

    page = client_for(rita).get(f"/tasks/{one.pk}/").content.decode()

    assert one.title in page
    assert "Overdue by 2 hours" in page
    assert "The amount is missing." in page
    assert f'href="/runs/{run.pk}/"' in page
    assert "&quot;order&quot;: &quot;A-9&quot;" in page  # the source record, pretty
    # one input per field, typed by its schema and prefilled from the run
    assert 'type="number" id="field-amount"' in page
    assert '<select class="form-select" id="field-currency"' in page
    assert 'id="field-customer" name="customer" value="ACME"' in page
    assert "In cents." in page
    # claim, and reassign to someone of the queue's group
    assert f'action="/tasks/{one.pk}/claim/"' in page
    assert ">rolf</option>" in page


def test_a_reviewer_of_another_queue_gets_404(rita, admin_user, flow):
    Group.objects.get_or_create(name="Legal")
    secret = task(new_run(flow, admin_user), queue="Legal")
    theirs = task(new_run(flow, admin_user))
    reviewer = client_for(rita)  # in the reviewers' queue, not in Legal

    assert reviewer.get(f"/tasks/{secret.pk}/").status_code == 404
    assert reviewer.post(f"/tasks/{secret.pk}/claim/").status_code == 404
    assert reviewer.get(f"/tasks/{theirs.pk}/").status_code == 200
    assert (
        f'data-task="{secret.pk}"'
        not in reviewer.get("/tasks/?tab=queues").content.decode()
    )


def test_a_viewer_cannot_post(admin_user, flow):
    one = task(new_run(flow, admin_user))
    viewer = client_for(UserFactory(username="vera", role=roles.VIEWER))

    for action in ("claim", "unclaim", "retry", "dismiss", "values", "decide"):
        assert viewer.post(f"/tasks/{one.pk}/{action}/").status_code == 403
    assert viewer.post("/tasks/bulk/", {"action": "claim"}).status_code == 403
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN


def test_bad_values_are_shown_in_place_and_nothing_is_saved(rita, admin_user, flow):
    run = new_run(flow, admin_user)
    one = task(run, kind=TaskKind.INCOMPLETE_METADATA, needed={"fields": FIELDS})
    runs_before = FlowRun.objects.count()
    reviewer = client_for(rita)

    response = reviewer.post(
        f"/tasks/{one.pk}/values/",
        {"amount": "twelve", "currency": "EUR", "customer": "", "comment": "hi"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field-error="amount">Enter a whole number, like 42.' in page
    assert 'data-field-error="customer">Fill this in' in page
    assert 'value="twelve"' in page  # kept as typed
    assert '<option value="EUR" selected>' in page
    assert ">hi</textarea>" in page
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN
    assert one.resolution == {}
    assert FlowRun.objects.count() == runs_before


def test_values_the_services_refuse_are_shown_next_to_their_field(
    rita, admin_user, flow, monkeypatch
):
    from integrations import reviews

    def refuse(task_, user, values, comment=""):
        error = reviews.InvalidValues.__new__(reviews.InvalidValues)
        Exception.__init__(error, "Some values are not valid.")
        error.message = "Some values are not valid."
        error.errors = {"currency": "Choose EUR or USD."}
        raise error

    monkeypatch.setattr(reviews, "resolve_with_values", refuse)
    one = task(
        new_run(flow, admin_user),
        kind=TaskKind.INCOMPLETE_METADATA,
        needed={"fields": FIELDS},
    )

    response = client_for(rita).post(
        f"/tasks/{one.pk}/values/",
        {"amount": "12", "currency": "USD", "customer": "ACME"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field-error="currency">Choose EUR or USD.' in page
    assert 'id="field-amount" name="amount" value="12"' in page


def test_reject_needs_a_comment_said_next_to_the_field(rita, admin_user, flow):
    one = task(new_run(flow, admin_user), kind=TaskKind.APPROVAL)

    response = client_for(rita).post(
        f"/tasks/{one.pk}/decide/", {"decision": "reject", "comment": ""}
    )

    assert response.status_code == 400
    assert b'data-field-error="comment">Say why you reject it' in response.content
    one.refresh_from_db()
    assert one.status == TaskStatus.OPEN


def test_the_fix_form_follows_the_kind(rita, admin_user, flow):
    run = new_run(flow, admin_user)
    reviewer = client_for(rita)
    document = task(run, kind=TaskKind.MISSING_DOCUMENT, needed={"document": "invoice"})
    failed = task(run, kind=TaskKind.FAILED_TRANSFER)
    approval = task(run, kind=TaskKind.APPROVAL)

    doc_page = reviewer.get(f"/tasks/{document.pk}/").content.decode()
    failed_page = reviewer.get(f"/tasks/{failed.pk}/").content.decode()
    approval_page = reviewer.get(f"/tasks/{approval.pk}/").content.decode()

    assert 'enctype="multipart/form-data"' in doc_page
    assert "The document “invoice”" in doc_page
    assert "Try again" in failed_page
    assert 'value="approve"' in approval_page and 'value="reject"' in approval_page
    for page in (doc_page, failed_page, approval_page):
        assert "Dismiss this task" in page


def test_dismiss_with_a_reason_goes_back_to_the_inbox(rita, admin_user, flow):
    one = task(new_run(flow, admin_user))

    response = client_for(rita).post(
        f"/tasks/{one.pk}/dismiss/", {"reason": "Sent by post instead."}
    )

    assert response.status_code == 302
    assert response["Location"] == "/tasks/"
    one.refresh_from_db()
    assert one.status == TaskStatus.DISMISSED


def test_a_refusal_of_the_services_is_a_message_not_a_500(rita, admin_user, flow):
    one = task(new_run(flow, admin_user), status=TaskStatus.RESOLVED)

    response = client_for(rita).post(f"/tasks/{one.pk}/claim/")

    assert response.status_code == 302
    assert texts(response)  # in plain words, whatever the services said


def test_a_pdf_of_the_run_is_previewed_in_the_page(
    rita, admin_user, flow, settings, tmp_path
):
    from connectors.base import Document
    from integrations import blobs

    settings.XCONNECTOR_BLOB_DIR = tmp_path / "blobs"
    pdf = blobs.keep(
        Document.from_bytes(
            "invoice A-9.pdf", b"%PDF-1.4 test", media_type="application/pdf"
        )
    )
    script = blobs.keep(
        Document.from_bytes("note.html", b"<script>1</script>", media_type="text/html")
    )
    run = new_run(flow, admin_user)
    run.context = {"documents": {"trigger": [pdf, script]}}
    run.save(update_fields=["context"])
    one = task(run)
    reviewer = client_for(rita)

    page = reviewer.get(f"/tasks/{one.pk}/").content.decode()
    shown = reviewer.get(f"/tasks/{one.pk}/documents/{pdf['sha256']}/")
    other = reviewer.get(f"/tasks/{one.pk}/documents/{script['sha256']}/")
    stranger = reviewer.get(f"/tasks/{one.pk}/documents/{'0' * 64}/")

    assert f'<iframe class="xc-doc-frame" src="/tasks/{one.pk}/documents/' in page
    assert "No preview for this kind of file" in page
    assert shown.status_code == 200
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline")
    assert b"".join(shown.streaming_content) == b"%PDF-1.4 test"
    # this site may frame it; the page's own CSP allows frames of 'self'
    assert shown["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in shown["Content-Security-Policy"]
    page_csp = reviewer.get(f"/tasks/{one.pk}/")["Content-Security-Policy"]
    assert "default-src 'self'" in page_csp and "frame-src" not in page_csp
    # anything else is a download, never rendered by the browser
    assert other["Content-Type"] == "application/octet-stream"
    assert other["Content-Disposition"].startswith("attachment")
    assert stranger.status_code == 404
