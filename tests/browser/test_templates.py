"""A new admin builds a working flow from a template in a real browser:
the gallery, "Use template" with the connections it asks for, "Run now"
with the template's sample, and the run page with the filed document."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from connectors.sandbox.models import OtcsNode
from integrations import flow_templates
from integrations.engine import claims
from integrations.engine.runner import execute_run
from integrations.models import Flow, FlowRun, RunStatus, Transfer

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    """Runs are executed in this process between page loads."""
    monkeypatch.setattr(claims, "wake", lambda run_id, delay=0.0: None)


def test_an_admin_builds_a_flow_from_a_template_and_runs_it(
    signed_in_page: Page, systems, page_log, screenshot
):
    page = signed_in_page

    # the flows page points a new admin to the templates
    page.goto("/flows/")
    expect(page.get_by_role("heading", name="No flows yet")).to_be_visible()
    page.get_by_role("link", name="Browse the templates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start from a template")
    cards = page.locator("[data-template]")
    expect(cards).to_have_count(len(flow_templates.all_templates()))
    screenshot(page, "templates-gallery")

    # Use template: it asks only for the connections the template needs
    card = page.locator('[data-template="capture-to-ecm"]')
    card.get_by_role("link", name="Use template").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Operational documents to governed records"
    )
    page.locator("#slot-events").select_option(label="Dynamics events")
    page.locator("#slot-source").select_option(label="Orders API")
    page.locator("#slot-ecm").select_option(label="Content Server")
    page.get_by_label("Name").fill("Billing documents")
    screenshot(page, "templates-use")
    page.get_by_role("button", name="Create the flow").click()

    # the new flow's page, active, with the template's sample to run it now
    flow = Flow.objects.get(name="Billing documents")
    expect(page).to_have_url(f"{page.url.split('/flows/')[0]}/flows/{flow.pk}/")
    expect(page.get_by_label("Data to start with (JSON)")).to_contain_text("INV-1001")
    screenshot(page, "templates-flow")
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_role("alert")).to_contain_text("started")

    # a worker runs it; the run page shows the filed document and its hash
    run = FlowRun.objects.get(flow=flow)
    assert execute_run(run.pk, worker="test") == RunStatus.SUCCEEDED
    page.reload()
    expect(page.locator("[data-run-status]").first).to_have_attribute(
        "data-run-status", "succeeded"
    )
    transfer = Transfer.objects.get(run=run)
    expect(page.get_by_title(f"SHA-256 {transfer.sha256}")).to_be_visible()
    assert OtcsNode.objects.filter(name="INV-1001.txt").exists()
    screenshot(page, "templates-run")
    assert page_log.errors == []
