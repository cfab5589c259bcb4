"""API tokens in a real browser: found from the menu, made, used by a
program, revoked; and the API reference page renders from the server."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_an_admin_makes_a_token_a_program_uses_it_then_it_is_revoked(
    signed_in_page: Page, live_server, page_log, screenshot
):
    page = signed_in_page

    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    expect(page.get_by_text("No tokens yet")).to_be_visible()
    page.get_by_label("What will use it?").fill("Release pipeline")
    page.get_by_label("Works for").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()

    token = page.get_by_label("Token", exact=True).input_value()
    expect(page.get_by_text("shown only this once")).to_be_visible()
    row = page.locator("tr", has_text="Release pipeline")
    expect(row).to_contain_text(token[:15])
    screenshot(page, "api-tokens")
    program = {"Authorization": f"Token {token}"}
    url = f"{live_server.url}/api/v1/tokens/"
    assert requests.get(url, headers=program, timeout=10).status_code == 200

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("“Release pipeline” no longer works.")).to_be_visible()
    assert requests.get(url, headers=program, timeout=10).status_code == 401

    page.get_by_role("link", name="Read the API reference").click()
    expect(page.get_by_text("xConnector API")).to_be_visible()
    expect(page.locator(".opblock-tag", has_text="runs")).to_be_visible()
    screenshot(page, "api-docs")
    assert page_log.errors == []
