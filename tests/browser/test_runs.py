"""Following runs in a real browser: the list, a run that needs review, and
replaying it from the page until it succeeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from integrations import services
from integrations.engine import claims
from integrations.engine.runner import execute_run
from integrations.models import FlowRun, RunStatus
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens")
NOTE = {
    "key": "note",
    "type": "set",
    "name": "Note the order",
    "variables": [{"name": "order", "expression": "trigger.order"}],
}


def check(limit: int) -> dict[str, object]:
    return {
        "key": "check_amount",
        "type": "condition",
        "name": "Check the amount",
        "expression": f"trigger.amount < {limit}",
        "otherwise": "fail",
        "message": f"The amount is over the limit of {limit}.",
    }


def snap(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"runs-{name}.png"), full_page=True)


def start(flow, payload, user) -> FlowRun:
    run, _ = services.start_run(flow, payload, user)
    execute_run(run.pk, worker="test")
    run.refresh_from_db()
    return run


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    """Runs are executed in this process between page loads."""
    monkeypatch.setattr(claims, "wake", lambda run_id, delay=0.0: None)


def test_an_admin_replays_a_run_that_needs_review(
    signed_in_page, ada, page_log, screenshot
):
    page = signed_in_page
    # Given no run yet: the page says what a run is
    page.goto("/runs/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs")
    expect(page.get_by_role("heading", name="No runs yet")).to_be_visible()
    snap(page, "empty")

    # And a flow whose amount check stopped one run out of three
    flow = services.create_flow(
        "Pay invoices",
        {"trigger": {"type": "manual"}, "steps": [NOTE, check(1000)]},
        ada,
        description="Pays invoices under the approval limit.",
        activate=True,
    )
    start(flow, {"order": "A-1", "amount": 10}, ada)
    stopped = start(flow, {"order": "A-2", "amount": 5000}, ada)
    start(flow, {"order": "A-3", "amount": 20}, ada)
    services.start_run(flow, {"order": "A-4", "amount": 30}, ada)
    assert stopped.status == RunStatus.NEEDS_REVIEW

    # When she opens the runs and picks "Needs review"
    page.goto("/runs/")
    expect(page.locator("[data-run]")).to_have_count(4)
    expect(page.locator('[data-count="succeeded"]')).to_contain_text("2")
    snap(page, "list")
    page.get_by_role("link", name="Needs review").click()
    expect(page.locator("[data-run]")).to_have_count(1)
    row = page.locator(f'[data-run="{stopped.pk}"]')
    expect(row).to_contain_text("The amount is over the limit of 1000.")
    snap(page, "list-needs-review")
    row.get_by_role("link", name=f"Run {stopped.pk}").click()

    # Then the run says where it stopped, why, and what to do
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Run {stopped.pk}")
    expect(page.locator("[data-run-error]")).to_have_text(
        "The amount is over the limit of 1000."
    )
    expect(page.locator('[data-step="check_amount"]')).to_have_attribute(
        "data-step-status", "failed"
    )
    page.locator('[data-step="note"] summary').first.click()
    expect(page.locator('[data-step="note"] pre').first).to_contain_text('"A-2"')
    snap(page, "needs-review")

    # When the limit is raised in a new version and she replays on it
    services.publish_version(
        flow,
        {"trigger": {"type": "manual"}, "steps": [NOTE, check(10000)]},
        ada,
        note="Raise the limit to 10,000",
    )
    page.reload()
    page.get_by_label("The latest version (2)").check()
    page.get_by_label("Comment (optional)").first.fill("Limit raised")
    page.get_by_role("button", name="Replay").click()

    # Then she lands on the new run, which succeeds once a worker ran it
    new_run = FlowRun.objects.get(replay_of=stopped)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Run {new_run.pk}")
    expect(page.get_by_role("alert")).to_contain_text("is being run again")
    execute_run(new_run.pk, worker="test")
    page.reload()
    expect(page.locator(".xc-lead [data-run-status]")).to_have_text("Succeeded")
    expect(page.locator('[data-link="replay-of"]')).to_have_text(f"run {stopped.pk}")
    snap(page, "replayed")

    # And the old run points to its replay
    page.locator('[data-link="replay-of"]').click()
    expect(page.locator(".xc-lead [data-run-status]")).to_have_text("Replayed")
    expect(page.locator('[data-link="replay"]')).to_have_text(f"run {new_run.pk}")

    # And the flow page shows its steps, versions and runs
    page.get_by_role("link", name="Pay invoices").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay invoices")
    expect(page.locator("[data-version]")).to_have_count(2)
    expect(page.locator("#flow-steps [data-step]")).to_have_count(2)
    snap(page, "flow")

    # And "Run now" with broken JSON keeps what she typed and says why
    page.get_by_label("Data to start with (JSON)").fill('{"order": "A-9",')
    page.get_by_role("button", name="Run now").click()
    expect(page.locator("#run-payload-error")).to_contain_text("not valid JSON")
    expect(page.get_by_label("Data to start with (JSON)")).to_have_value(
        '{"order": "A-9",'
    )
    snap(page, "run-now-error")
    page.get_by_label("Data to start with (JSON)").fill('{"order": "A-9", "amount": 5}')
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_role("alert")).to_contain_text("started")

    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Flows"
    ).click()
    expect(page.locator(f'[data-flow="{flow.pk}"]')).to_contain_text("By hand")
    snap(page, "flow-list")

    # And on a phone the run page reads top to bottom without scrolling sideways
    page.set_viewport_size(PHONE)
    page.goto(f"/runs/{stopped.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    snap(page, "detail-mobile")
    assert page_log.errors == []
