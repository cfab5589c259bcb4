"""The reviewers' inbox in a real browser: a reviewer filters her queue,
opens a task, enters the missing values (one wrong at first) and fixes it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from integrations import services
from integrations.engine import claims
from integrations.engine.runner import execute_run
from integrations.models import FlowRun, ReviewTask, RunStatus, TaskKind, TaskStatus
from tests.browser.conftest import PHONE, sign_in
from tests.factories import PASSWORD, UserFactory
from xconnector import roles

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens")
NOTE = {
    "key": "note",
    "type": "set",
    "name": "Note the order",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}
CHECK = {
    "key": "check_amount",
    "type": "condition",
    "name": "Check the amount",
    "expression": "trigger.amount < 1000",
    "otherwise": "fail",
    "message": "The amount is over the limit of 1000.",
}
FIELDS = {
    "amount": {"type": "integer", "title": "Amount", "description": "In euros."},
    "currency": {"type": "string", "title": "Currency", "enum": ["EUR", "USD"]},
    "customer": {"type": "string", "title": "Customer name"},
}


def snap(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"tasks-{name}.png"), full_page=True)


def stopped_run(flow, payload, user) -> FlowRun:
    run, _ = services.start_run(flow, payload, user)
    execute_run(run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.NEEDS_REVIEW
    return run


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    monkeypatch.setattr(claims, "wake", lambda run_id, delay=0.0: None)


def test_a_reviewer_fixes_incomplete_metadata(page, ada, page_log):
    rita = UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)
    flow = services.create_flow(
        "Pay invoices",
        {"trigger": {"type": "manual"}, "steps": [NOTE, CHECK]},
        ada,
        activate=True,
    )
    # Three runs stopped; the engine opened a task for each in the reviewers' queue
    runs = [
        stopped_run(flow, {"order": f"A-{n}", "amount": 5000, "customer": "ACME"}, ada)
        for n in (1, 2, 3)
    ]
    tasks = {task.run_id: task for task in ReviewTask.objects.all()}
    metadata = tasks[runs[0].pk]
    ReviewTask.objects.filter(pk=metadata.pk).update(
        kind=TaskKind.INCOMPLETE_METADATA,
        title="Pay invoices: “Check the amount” needs information",
        needed={"fields": FIELDS, "errors": ["The amount and currency are missing."]},
        business_object="invoice:A-1",
        priority=1,
        due_at=timezone.now() - timedelta(hours=3, minutes=10),
    )
    ReviewTask.objects.filter(pk=tasks[runs[1].pk].pk).update(
        kind=TaskKind.APPROVAL, title="Pay invoices: approve A-2"
    )

    # When Rita signs in and opens her tasks
    sign_in(page, "rita", PASSWORD)
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Tasks"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    # nothing is assigned to her yet: her queue is shown
    expect(page.locator("[data-task]")).to_have_count(3)
    expect(page.locator(f'[data-task="{metadata.pk}"]')).to_contain_text(
        "Overdue by 3 hours"
    )
    expect(page.locator('#queue-counts [data-count="overdue"]')).to_have_text("1")
    snap(page, "inbox")

    # And filters by kind
    page.get_by_label("Kind").select_option("incomplete_metadata")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("[data-task]")).to_have_count(1)
    snap(page, "inbox-filtered")
    page.get_by_role("link", name="needs information").click()

    # Then the task says what is wrong and where it came from
    expect(page.get_by_role("heading", level=1)).to_contain_text("needs information")
    expect(page.locator("[data-task-errors]")).to_contain_text(
        "The amount and currency are missing."
    )
    expect(page.locator('[data-link="run"]')).to_have_text(f"Run {runs[0].pk}")
    expect(page.get_by_label("Customer name")).to_have_value("ACME")
    page.get_by_role("button", name="Claim: I work on it").click()
    expect(page.get_by_role("alert")).to_contain_text("The task is yours now")
    expect(page.locator("[data-assignee]")).to_have_text("You")
    snap(page, "task")

    # When she enters the amount and currency but empties the customer's name
    page.locator("#field-amount").fill("500")
    page.locator("#field-currency").select_option("EUR")
    page.get_by_label("Customer name").fill("")
    page.get_by_role("button", name="Save and go on").click()

    # Then the form says so next to the field and keeps what she typed
    expect(page.locator('[data-field-error="customer"]')).to_contain_text(
        "Fill this in"
    )
    expect(page.locator("#field-amount")).to_have_value("500")
    expect(page.locator("#field-currency")).to_have_value("EUR")
    assert page_log.statuses(f"/tasks/{metadata.pk}/values/") == [400]
    metadata.refresh_from_db()
    assert metadata.status == TaskStatus.CLAIMED
    snap(page, "task-invalid")

    # When she fills it in
    page.get_by_label("Customer name").fill("ACME Corporation")
    page.get_by_role("button", name="Save and go on").click()

    # Then the run goes on as a new run and the task is done
    expect(page.get_by_role("alert")).to_contain_text("the run goes on")
    metadata.refresh_from_db()
    assert metadata.status == TaskStatus.RESOLVED
    snap(page, "fixed")

    # And the inbox, on a phone, reads without scrolling sideways
    page.set_viewport_size(PHONE)
    page.goto("/tasks/?tab=queues")
    expect(page.locator("[data-task]")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    snap(page, "inbox-mobile")
    # the only error the browser saw is the 400 of the refused form
    assert all("400" in error for error in page_log.errors)
    assert rita.assigned_tasks.count() >= 1
