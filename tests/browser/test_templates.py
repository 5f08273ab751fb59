"""The template editor in a real browser, under the app's real CSP."""

import re

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from templates_app.models import MessageTemplate
from tests.factories import make_customer

# Two cores shared with other work: give the debounced preview time to land.
expect.set_options(timeout=15_000)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MESSAGE = (
    "<mjml>\n<mj-head>\n<mj-title>Welcome</mj-title>\n</mj-head>\n"
    "<mj-body>\n<mj-section>\n<mj-column>\n"
    "<mj-text>Hello {{ customer.first_name }}</mj-text>\n"
    '<mj-button href="{{ unsubscribe_url }}" background-color="#e63946">Unsubscribe</mj-button>\n'
    "</mj-column>\n</mj-section>\n</mj-body>\n</mjml>"
)


@pytest.fixture
def browser_page(monkeypatch, django_db_setup, live_server):
    # (Asking for the database before the live server makes the server stop
    # first at the end of the session, so the test database can be dropped.)
    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes meanwhile are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server answers from short-lived threads: close their connections
    # after each request so the test database can be dropped at the end.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        problems: list[str] = []
        # (Chromium's own /favicon.ico request shows up only as a console error;
        # failed requests of the page itself are caught by the response hook.)
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.text.startswith("Failed to load resource")
                and problems.append(m.text)
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"),
        )
        page.problems = problems
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get their own connections
        # (Django keeps them per async context): close them before teardown.
        connections.close_all()


def log_in(page, live_server, django_user_model) -> None:
    django_user_model.objects.create_user(username="marketer", password="a-long-test-password")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "marketer")
    page.fill("input[name=password]", "a-long-test-password")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(re.compile(r".*/customers/.*|.*/$"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_editing_a_template_updates_the_sandboxed_preview(
    browser_page, live_server, django_user_model
):
    page = browser_page
    zoya = make_customer(first_name="Zoya", last_name="Khan", email="zoya@example.com")
    make_customer(first_name="Meera", last_name="Iyer", email="meera@example.com")
    template = MessageTemplate.objects.create(
        name="Welcome", type="email", subject="Hi {{ customer.first_name }}", message=MESSAGE
    )
    log_in(page, live_server, django_user_model)
    page.goto(f"{live_server.url}/templates/{template.pk}/edit/?customer={zoya.pk}")

    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("body")).to_contain_text("Hello Zoya")
    expect(page.locator(".code-gutter")).to_contain_text("13")  # line numbers

    page.fill(
        "#id_message",
        MESSAGE.replace("Hello", "Welcome aboard").replace(
            "</mj-text>", " {{ customer.attributes.course }}</mj-text>"
        ),
    )
    expect(frame.locator("body")).to_contain_text("Welcome aboard Zoya")
    expect(page.locator("#preview-variables")).to_contain_text("customer.attributes.course")
    expect(page.locator("#preview-variables")).to_contain_text("no value for this customer")

    # The email's inline styles survive the frame's own CSP.
    button = frame.locator("a", has_text="Unsubscribe")
    expect(button).to_have_css("background-color", "rgb(230, 57, 70)")

    page.fill("#id_subject", "Hey {{ customer.first_name }} {% if %}")
    expect(page.locator("#preview-errors")).to_contain_text("subject: line 1")
    expect(frame.locator("body")).to_contain_text("This template does not render")

    # Picking another sample customer re-renders for them.
    page.fill("#id_subject", "Hey {{ customer.first_name }}")
    page.fill("#sample-search", "meera")
    page.get_by_role("button", name=re.compile("Meera Iyer")).click()
    expect(frame.locator("body")).to_contain_text("Welcome aboard Meera")
    expect(page.locator("#preview-subject")).to_have_text("Hey Meera")

    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_url(f"**/templates/{template.pk}/**")
    template.refresh_from_db()
    assert "Welcome aboard" in template.message
    # The detail page keeps the sample customer chosen in the editor.
    expect(page.frame_locator("iframe.preview-frame").locator("body")).to_contain_text(
        "Welcome aboard Meera"
    )
    assert page.locator("iframe.preview-frame").get_attribute("sandbox") == ""
    assert [p for p in page.problems if "Content Security Policy" in p] == []
    assert page.problems == []
