"""Browser tests: Playwright driving Debian's chromium against the live server.

Every test in this folder is marked `browser` (`pytest -m browser` runs only
them). `.ci/run` installs chromium with apt; Playwright's own browser download
is never used.
"""

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from marketing_os.roles import MARKETER, Role
from tests.factories import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps calling out to a
# network this machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Two shared cores: give debounced previews and live pages time to land.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Browser:
    # Playwright's sync API runs an event loop in this thread; the ORM calls a
    # test makes between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Browser, django_db_setup, live_server, monkeypatch) -> Page:
    """A page on the live server that records script errors, CSP refusals and
    failed requests in `page.problems`.

    (The database is set up before the live server so the server stops first and
    the test database can be dropped; CONN_MAX_AGE 0 closes the server threads'
    connections after each request.)
    """
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)  # two shared cores: give pages time
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")  # reported by "response"
            and problems.append(m.text)
        ),
    )
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.problems = problems
    yield page
    context.close()
    # ORM calls made while Playwright's loop runs get their own connections.
    connections.close_all()


def log_in(page: Page, django_user_model, username: str = "marketer", role: Role | None = MARKETER):
    """Create a user with `role` and log in through the real login form; return the user."""
    user = make_user(username, role)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return user
