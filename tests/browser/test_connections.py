"""Adding a connection in a real browser: catalog, generated form, test button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from connectors.models import Connection

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_rest_api_connection_and_tests_it(
    signed_in_page, live_server, page_log, screenshot
):
    page = signed_in_page
    # Given the empty connections page invites her to add one
    page.goto("/connections/")
    screenshot(page, "connections-empty")
    page.get_by_role("link", name="Add your first connection").click()

    # When she searches the catalog and picks the REST API connector
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Which system do you want to connect?"
    )
    screenshot(page, "connections-catalog")
    page.get_by_role("searchbox", name="Search connectors").fill("rest")
    expect(page.locator("[data-connector]")).to_have_count(1)
    page.locator('[data-connector="http"]').click()

    # And chooses bearer-token sign-in: the token field appears in place
    page.get_by_label("Name", exact=True).fill("Orders API")
    page.get_by_label("Base URL").fill(f"{live_server.url}/sandbox/http/")
    page.get_by_label("Health check path").fill("secure/orders")
    expect(page.locator('[name="auth__token"]')).to_have_count(0)
    page.get_by_label("Authentication").select_option("bearer")
    expect(page.locator('[name="auth__token"]')).to_be_visible()
    page.locator('[name="auth__token"]').fill("sandbox-token")
    screenshot(page, "connections-form")
    page.get_by_role("button", name="Save connection").click()

    # Then the connection is saved, the token only shown as set
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders API")
    expect(page.locator("[data-secret-set]")).to_contain_text("Set on")
    assert "sandbox-token" not in page.content()

    # And "Test connection" reports success without leaving the page
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-status [data-status]")).to_have_attribute(
        "data-status", "healthy"
    )
    expect(page.locator("[data-check-message]")).to_contain_text("Reached")
    expect(page.locator("#test-spinner")).to_be_hidden()
    screenshot(page, "connections-tested")
    assert Connection.objects.get().status == "healthy"

    # And the list shows it working
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Connections"
    ).click()
    row = page.locator("[data-connection]")
    expect(row).to_contain_text("Orders API")
    expect(row.locator("[data-status]")).to_have_text("Working")
    screenshot(page, "connections-list")
    assert page_log.errors == []


def test_a_webhook_connection_shows_its_address_and_deliveries(
    signed_in_page, live_server, page_log, screenshot
):
    import base64
    import secrets

    import requests
    from standardwebhooks.webhooks import Webhook

    from audit.services import Actor
    from connectors import services

    # Given a webhook connection verified by Standard Webhooks
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    connection = services.create_connection(
        Actor.system("test"),
        connector_key="webhook",
        name="Partner webhooks",
        settings={"verification": "standard_webhooks"},
        secrets={"secret": secret},
    )
    hook = f"{live_server.url}/hooks/{connection.pk}/"

    # When a partner posts one signed event twice, and a forger one more
    body = '{"type": "invoice.created", "id": "inv-42"}'
    sent = __import__("datetime").datetime.now(__import__("datetime").UTC)
    headers = {
        "webhook-id": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": Webhook(secret).sign(
            "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", sent, body
        ),
        "content-type": "application/json",
    }
    first = requests.post(hook, data=body, headers=headers, timeout=10)
    again = requests.post(hook, data=body, headers=headers, timeout=10)
    forged = requests.post(
        hook,
        data=body,
        headers={**headers, "webhook-signature": "v1,Zm9yZ2Vk"},
        timeout=10,
    )
    assert (first.status_code, again.status_code, forged.status_code) == (202, 200, 401)

    # Then the connection page shows where to post and what arrived
    page = signed_in_page
    page.goto(f"/connections/{connection.pk}/")
    expect(page.locator("[data-hook-url]")).to_have_text(hook)
    accepted = page.locator('[data-delivery="accepted"]')
    expect(accepted).to_contain_text("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    expect(accepted).to_contain_text("(+1 repeat dropped)")
    expect(page.locator('[data-delivery="rejected"]')).to_have_count(1)
    assert secret not in page.content()
    screenshot(page, "connections-webhook")
    assert page_log.errors == []
