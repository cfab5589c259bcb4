"""Fixtures for the real-browser tests: Debian's chromium driven by Playwright.

Playwright cannot download browsers on these machines, so the tests launch the
``chromium`` package from Debian. Without it they are skipped, unless
``XCONNECTOR_REQUIRE_BROWSER=1`` says a missing browser is a failure (CI).

Playwright's sync API keeps an asyncio loop marked as running in the main
thread for as long as it lives. Two consequences, handled here:

- Django refuses ORM calls from a thread with a running loop, so
  ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while the browser is up. Safe here: the
  loop only carries messages to the browser, it never runs Django code.
- Every other test in the session would run beside that loop too, so the
  browser tests are moved to the end of the session and the browser stops
  as soon as the session ends.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.factories import PASSWORD, UserFactory
from xconnector import roles

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from playwright.sync_api import Browser, ConsoleMessage, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
# A page of this product answers in milliseconds; waiting 30 s (Playwright's
# default) for a missing element only makes a failing run slow.
TIMEOUT_MS = 10_000
_CSP_MESSAGE = re.compile(r"Content Security Policy|Refused to", re.IGNORECASE)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run the browser tests last, so no other test shares Playwright's loop."""
    others = [item for item in items if item.get_closest_marker("browser") is None]
    browser = [item for item in items if item.get_closest_marker("browser")]
    items[:] = others + browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless chromium for the whole session."""
    required = os.environ.get("XCONNECTOR_REQUIRE_BROWSER") == "1"
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install chromium) to run the browser tests"
        )
        if required:
            pytest.fail(f"XCONNECTOR_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class PageLog:
    """What the browser reported while a test drove the page."""

    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    responses: list[tuple[int, str, str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append((message.type, message.text))

    def on_response(self, response: Response) -> None:
        self.responses.append(
            (response.status, response.request.resource_type, response.url)
        )

    @property
    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions, CSP violations included."""
        logged = [text for kind, text in self.console if kind == "error"]
        return logged + self.page_errors

    @property
    def csp_violations(self) -> list[str]:
        return [text for _, text in self.console if _CSP_MESSAGE.search(text)]

    @property
    def failed_responses(self) -> list[tuple[int, str]]:
        return [(status, url) for status, _, url in self.responses if status >= 400]

    def statuses(self, path_end: str) -> list[int]:
        """Statuses of every response whose URL path ends with ``path_end``."""
        return [
            status
            for status, _, url in self.responses
            if url.split("?", 1)[0].endswith(path_end)
        ]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, live_server, page_log: PageLog) -> Iterator[Page]:
    """A fresh tab (own cookies) on the live server, desktop sized, recorded.

    A test that ends with a Content Security Policy violation on record fails
    at teardown, even if it did not look for one itself.
    """
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("console", page_log.on_console)
    tab.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    tab.on("response", page_log.on_response)
    yield tab
    context.close()
    if page_log.csp_violations:
        pytest.fail(
            "Content Security Policy violations:\n" + "\n".join(page_log.csp_violations)
        )


@pytest.fixture
def ada(transactional_db) -> User:
    """An integration admin; her password is tests.factories.PASSWORD."""
    return UserFactory(username="ada", role=roles.INTEGRATION_ADMIN)


def htmx_settled(page: Page) -> None:
    """Wait until htmx has swapped and settled what it fetched: only then do
    the new elements' triggers (a search box's input, say) listen."""
    page.wait_for_function(
        "document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        " === null"
    )


def sign_in(page: Page, username: str, password: str) -> None:
    """Fill in and send the real sign-in form (django-axes sees every try)."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def signed_in_page(page: Page, ada: User) -> Page:
    """The tab after ada signed in through the form."""
    sign_in(page, "ada", PASSWORD)
    return page


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Saves a full-page PNG to tests/screenshots/ (gitignored) to look at."""

    def save(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
