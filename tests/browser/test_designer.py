"""The designer in a real browser: open a flow made from a template, pick
a step, change a mapping and watch the preview change, test the step
against the emulator, add a step from the catalog, and publish."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from integrations import flow_templates
from integrations.models import Flow, StepTest
from tests.browser.conftest import htmx_settled

pytestmark = pytest.mark.browser


def test_an_admin_changes_a_mapping_tests_the_step_and_publishes(
    signed_in_page: Page, systems, ada, page_log, screenshot
):
    page = signed_in_page
    flow = flow_templates.instantiate(
        "order-reconciliation", {"orders": systems.orders}, ada
    )

    page.goto(f"/flows/{flow.pk}/")
    page.get_by_role("link", name="Design").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Design")
    expect(page.locator("#draft-status")).to_contain_text("No changes")
    # the router's two paths are drawn side by side
    expect(page.locator(".xc-lane")).to_have_count(2)
    screenshot(page, "designer-canvas")

    # pick the step that reads the order; its mapping previews on the sample
    page.locator('[data-step="order"] .xc-node-link').click()
    expect(page.locator("#step-title")).to_have_text("Read the order")
    preview = page.locator("[data-preview]")
    expect(preview).to_contain_text('"path": "orders/ORD-1002"')
    path = page.get_by_label("Value of “path”")
    path.fill('"orders/" & trigger.order & "?full=1"')
    expect(preview).to_contain_text('"path": "orders/ORD-1002?full=1"')
    path.fill('"orders/" & trigger.order')
    path.press("Tab")  # a change saves the draft
    expect(page.locator("#draft-status")).to_have_attribute("data-changed", "no")
    screenshot(page, "designer-mapping")

    # test it: the emulator's answer is shown, no run is made
    page.get_by_role("button", name="Test this step").click()
    expect(page.locator('[data-test="ok"]')).to_contain_text('"id": "ORD-1002"')
    assert StepTest.objects.filter(flow=flow, ok=True).count() == 1
    screenshot(page, "designer-test")

    # add a step from the catalog after it, found by searching
    page.locator('[data-step="order"] ~ .xc-add-step').first.click()
    expect(page.get_by_label("Find a step")).to_be_visible()
    htmx_settled(page)
    page.get_by_label("Find a step").fill("remember")
    expect(page.locator("[data-entry]")).to_have_count(1)
    screenshot(page, "designer-catalog")
    page.get_by_role("button", name="Add “Remember values” (Built-in steps)").click()
    expect(page.locator("#step-title")).to_have_text("Remember")
    expect(page.locator("#draft-status")).to_have_attribute("data-changed", "yes")

    # publish it with a note
    page.get_by_label("What this version changes").fill("Remember the order")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("Version 2 is published")
    flow = Flow.objects.get(pk=flow.pk)
    assert flow.published_version.note == "Remember the order"
    assert [s["key"] for s in flow.published_version.definition["steps"]][:2] == [
        "order",
        "remember",
    ]
    # and it fits a tablet, nothing wider than the screen
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"/flows/{flow.pk}/design/?step=order")
    expect(page.locator("#step-title")).to_have_text("Read the order")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
    screenshot(page, "designer-tablet")
    assert page_log.errors == []
