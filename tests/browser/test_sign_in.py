"""Signing in, finding one's way around and signing out, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NAVIGATION = [
    ("Dashboard", "/"),
    ("Connections", "/connections/"),
    ("Flows", "/flows/"),
    ("Runs", "/runs/"),
    ("Tasks", "/tasks/"),
    ("Workspaces", "/workspaces/"),
    ("Audit", "/audit/"),
]
ASSETS = [
    "/static/vendor/tabler/tabler.min.css",
    "/static/css/app.css",
    "/static/vendor/htmx/htmx.min.js",
    "/static/vendor/tabler/tabler.min.js",
    "/static/vendor/tabler-icons/sprite.svg",
]


def main_menu(page):
    return page.get_by_role("navigation", name="Main menu")


def test_right_password_lands_on_the_dashboard(
    page, ada, page_log, live_server, screenshot
):
    # Given ada opens the product and is sent to the sign-in form
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    screenshot(page, "login")

    # When she signs in with her password
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Then she lands on the dashboard, with every section in the sidebar
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(main_menu(page).get_by_role("link")).to_have_text(
        [label for label, _ in NAVIGATION]
    )
    page.wait_for_load_state("load")
    screenshot(page, "dashboard")
    assert page_log.csp_violations == []
    assert page_log.errors == []


def test_wrong_password_says_so_and_keeps_the_username(
    page, ada, page_log, live_server, screenshot
):
    # Given the sign-in form
    page.goto("/login/")

    # When ada mistypes her password
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()

    # Then the form says so, keeps her username and forgets the password
    expect(page.get_by_role("alert")).to_contain_text(
        "The username or password is not right"
    )
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_label("Username")).to_have_value("ada")
    expect(page.get_by_label("Password")).to_have_value("")
    screenshot(page, "login-error")
    assert page_log.errors == []


def test_each_menu_entry_opens_its_page_and_is_marked_active(
    signed_in_page, live_server, screenshot
):
    page = signed_in_page
    for label, path in [*NAVIGATION[1:], NAVIGATION[0]]:
        # When she clicks the entry
        main_menu(page).get_by_role("link", name=label).click()

        # Then its page opens and the entry alone is marked as the current page
        expect(page).to_have_url(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(label)
        current = main_menu(page).locator("[aria-current=page]")
        expect(current).to_have_count(1)
        expect(current).to_have_text(label)
        expect(current.locator("xpath=..")).to_have_class("nav-item active")
        if label == "Connections":
            screenshot(page, "section-connections")


def test_signing_out_returns_to_sign_in_and_closes_the_pages(
    signed_in_page, live_server
):
    page = signed_in_page

    # When she signs out
    page.get_by_role("button", name="Sign out").click()

    # Then she is back on the sign-in form
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Sign in to your account")).to_be_visible()

    # And the dashboard now asks her to sign in first
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")


def test_htmx_is_configured_and_every_asset_is_served(page, ada, page_log):
    # Given a browser that fetches every file: Playwright turns the HTTP cache
    # off while it routes requests, so no file comes back as a revalidated 304
    page.route("**/*", lambda route: route.continue_())

    # When ada signs in and the dashboard has loaded
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.wait_for_load_state("load")

    # Then htmx runs with the configuration from the page's meta tag
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("htmx.config.allowEval") is False
    # And every file both pages asked for was served
    for asset in ASSETS:
        assert page_log.statuses(asset) == [200, 200], asset
    assert page_log.failed_responses == []


def test_dashboard_shows_the_database_as_working(signed_in_page):
    card = signed_in_page.locator("[data-health=database]")

    expect(card).to_have_attribute("data-ok", "true")
    expect(card).to_contain_text("Database")
    expect(card).to_contain_text("Working")


def test_on_a_phone_the_menu_folds_behind_a_button(
    page, ada, page_log, live_server, screenshot
):
    # Given ada signs in on a phone
    page.set_viewport_size(PHONE)
    page.goto("/login/")
    screenshot(page, "login-mobile")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.wait_for_load_state("load")

    # Then the menu is folded away and the page does not scroll sideways
    menu_button = page.get_by_role("button", name="Show the menu")
    expect(menu_button).to_be_visible()
    expect(main_menu(page).get_by_role("link", name="Flows")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    screenshot(page, "dashboard-mobile")

    # When she opens the menu
    menu_button.click()

    # Then the entries show, and one takes her to its page
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    expect(main_menu(page).get_by_role("link", name="Flows")).to_be_visible()
    page.wait_for_timeout(400)  # let the unfolding finish before the picture
    screenshot(page, "dashboard-mobile-menu")
    main_menu(page).get_by_role("link", name="Flows").click()
    expect(page).to_have_url(f"{live_server.url}/flows/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Flows")
    assert page_log.errors == []


def test_too_many_wrong_passwords_lock_the_account(
    page, ada, page_log, settings, screenshot
):
    # Given ada got her password wrong as often as allowed
    settings.AXES_FAILURE_LIMIT = 3
    page.goto("/login/")
    for _ in range(3):
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill("a-wrong-guess")
        page.get_by_role("button", name="Sign in").click()

    # Then sign-in is paused and the page says what to do
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Too many wrong passwords"
    )
    expect(page.get_by_role("link", name="Back to sign in")).to_be_visible()
    screenshot(page, "locked-out")
    assert page_log.csp_violations == []


def test_a_form_sent_without_its_cookie_says_it_expired(page, ada, screenshot):
    # Given the sign-in form, whose CSRF cookie is then lost
    page.goto("/login/")
    page.context.clear_cookies()

    # When ada sends it
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Then she is told to reload instead of seeing a bare 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This form has expired")
    expect(page.get_by_role("link", name="Go to the dashboard")).to_be_visible()
    screenshot(page, "form-expired")
