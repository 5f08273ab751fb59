"""The template editor in a real browser, under the app's real CSP."""

import re

import pytest
from playwright.sync_api import expect

from templates_app.models import MessageTemplate
from tests.browser.conftest import log_in
from tests.factories import make_customer

MESSAGE = (
    "<mjml>\n<mj-head>\n<mj-title>Welcome</mj-title>\n</mj-head>\n"
    "<mj-body>\n<mj-section>\n<mj-column>\n"
    "<mj-text>Hello {{ customer.first_name }}</mj-text>\n"
    '<mj-button href="{{ unsubscribe_url }}" background-color="#e63946">Unsubscribe</mj-button>\n'
    "</mj-column>\n</mj-section>\n</mj-body>\n</mjml>"
)


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
    log_in(page, django_user_model)
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
