"""The whole journey of a new team, in a real browser: the integration
admin connects a system from the catalog and tests it, builds a flow from
a template, changes a mapping and sees the preview change, tests a step,
publishes, runs it and finds the filed document's hash on the run; then a
reviewer signs in and resolves the task another flow opened.

Screenshots of each page go to tests/screenshots/journey-*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from audit.services import Actor
from connectors import services as connection_services
from connectors.sandbox.models import OtcsCategoryValue, OtcsNode
from integrations import flow_templates, services
from integrations.engine import claims
from integrations.engine.runner import execute_run
from integrations.models import Flow, FlowRun, ReviewTask, RunStatus, Transfer
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.integrations.flows import HOOK_SECRET, drain
from xconnector import roles

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def no_broker(monkeypatch) -> None:
    """Runs are executed in this process between page loads."""
    monkeypatch.setattr(claims, "wake", lambda run_id, delay=0.0: None)


@pytest.fixture
def other_systems(live_server, settings, tmp_path, ada):
    """Content Server and the partner webhook, set up earlier by the team."""
    from integrations.engine.connections import forget_connectors

    settings.XCONNECTOR_HTTP_ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.XCONNECTOR_BLOB_DIR = tmp_path / "blobs"
    settings.VAR_DIR = tmp_path
    forget_connectors()
    actor = Actor.user(ada)
    connection_services.create_connection(
        actor,
        connector_key="otcs",
        name="Content Server",
        settings={
            "base_url": f"{live_server.url}/sandbox/otcs/api/",
            "username": "admin",
        },
        secrets={"password": "sandbox-admin"},
    )
    connection_services.create_connection(
        actor,
        connector_key="webhook",
        name="Billing events",
        settings={
            "verification": "shared_secret_header",
            "header_name": "X-Webhook-Secret",
            "event_id_source": "body:MessageId",
        },
        secrets={"secret": HOOK_SECRET},
    )
    yield
    forget_connectors()


def test_from_a_new_connection_to_a_filed_document_and_a_resolved_task(
    signed_in_page: Page, live_server, other_systems, ada, page_log, screenshot
):
    page = signed_in_page

    # 1. a connection from the catalog, tested
    page.goto("/connections/new/")
    page.get_by_role("searchbox", name="Search connectors").fill("rest")
    page.locator('[data-connector="http"]').click()
    page.get_by_label("Name", exact=True).fill("Billing API")
    page.get_by_label("Base URL").fill(f"{live_server.url}/sandbox/http/")
    page.get_by_label("Health check path").fill("secure/orders")
    page.get_by_label("Authentication").select_option("bearer")
    page.locator('[name="auth__token"]').fill("sandbox-token")
    page.get_by_role("button", name="Save connection").click()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-status [data-status]")).to_have_attribute(
        "data-status", "healthy"
    )
    screenshot(page, "journey-1-connection")

    # 2. a flow from a template, on the connections it asks for
    page.goto("/flows/templates/")
    page.locator('[data-template="capture-to-ecm"]').get_by_role(
        "link", name="Use template"
    ).click()
    page.locator("#slot-events").select_option(label="Billing events")
    page.locator("#slot-source").select_option(label="Billing API")
    page.locator("#slot-ecm").select_option(label="Content Server")
    page.get_by_label("Name").fill("Billing documents")
    screenshot(page, "journey-2-template")
    page.get_by_role("button", name="Create the flow").click()
    flow = Flow.objects.get(name="Billing documents")

    # 3. change a mapping: the preview follows on the sample
    page.get_by_role("link", name="Design").click()
    page.locator('[data-step="file"] .xc-node-link').click()
    expect(page.locator("#step-title")).to_have_text("File it with its metadata")
    number = page.get_by_label("Value of “categories.9830_2”")
    preview = page.locator("[data-preview]")
    expect(preview).to_contain_text('"9830_2": "INV-1001"')
    number.fill('"Billing " & trigger.body.number')
    expect(preview).to_contain_text('"9830_2": "Billing INV-1001"')
    number.press("Tab")
    screenshot(page, "journey-3-mapping")

    # 4. test the step that fetches the document, against the emulator
    page.locator('[data-step="fetch"] .xc-node-link').click()
    expect(page.locator("#step-title")).to_have_text("Fetch the document")
    page.get_by_role("button", name="Test this step").click()
    expect(page.locator('[data-test="ok"]')).to_contain_text('"name": "INV-1001.txt"')
    screenshot(page, "journey-4-test")

    # 5. publish it
    page.get_by_label("What this version changes").fill("Say where it comes from")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("Version 2 is published")

    # 6. trigger it, watch the run succeed, find the document's hash
    page.get_by_role("button", name="Run now").click()
    run = FlowRun.objects.get(flow=flow)
    assert run.version.number == 2
    assert execute_run(run.pk, worker="test") == RunStatus.SUCCEEDED
    page.reload()
    expect(page.locator("[data-run-status]").first).to_have_attribute(
        "data-run-status", "succeeded"
    )
    transfer = Transfer.objects.get(run=run)
    expect(page.get_by_title(f"SHA-256 {transfer.sha256}")).to_be_visible()
    filed = OtcsNode.objects.get(name="INV-1001.txt")
    values = OtcsCategoryValue.objects.get(node=filed, category_id=9830).values
    assert values["9830_2"] == "Billing INV-1001"
    screenshot(page, "journey-6-run")

    # 7. a reviewer resolves the task another flow opened
    reconcile = flow_templates.instantiate(
        "order-reconciliation",
        {"orders": flow.published_version.connections.get(connector_key="http")},
        ada,
    )
    short, _ = services.start_run(
        reconcile, {"order": "ORD-1002", "total": "150.00", "currency": "EUR"}, ada
    )
    drain()
    task = ReviewTask.objects.get(run=short)
    UserFactory(username="rita", first_name="Rita", role=roles.REVIEWER)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "rita", PASSWORD)
    page.goto("/tasks/")
    page.get_by_role("link", name=task.title).click()
    screenshot(page, "journey-7-task")
    page.get_by_role("button", name="Accept the difference").click()
    expect(page.get_by_role("alert")).to_be_visible()
    task.refresh_from_db()
    assert task.status == "resolved"
    drain()
    short.refresh_from_db()
    assert short.status == RunStatus.SUCCEEDED
    page.reload()
    expect(page.locator("[data-run-status]").first).to_have_attribute(
        "data-run-status", "succeeded"
    )
    screenshot(page, "journey-8-resolved")
    assert page_log.errors == []
