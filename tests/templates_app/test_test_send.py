import pytest
from django.urls import reverse

from customers.personalisation import customer_context
from templates_app.models import MessageTemplate
from templates_app.previews import preview_unsubscribe_url
from templates_app.rendering import render_message
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

MESSAGE = (
    "<mjml><mj-body><mj-section><mj-column>"
    "<mj-text>Hi {{ customer.first_name }}</mj-text>"
    "</mj-column></mj-section></mj-body></mjml>"
)


@pytest.fixture
def template():
    return MessageTemplate.objects.create(
        name="Welcome", type="email", subject="Hi {{ customer.first_name }}", message=MESSAGE
    )


def send(client, template, **data):
    url = reverse("templates_app:test_send", args=[template.pk])
    return client.post(url, {"to": "me@example.com"} | data, follow=True)


def test_a_test_email_goes_through_resend_rendered_for_the_chosen_customer(
    logged_in, template, fake_resend
):
    customer = make_customer(first_name="Asha")
    page = send(logged_in, template, customer=str(customer.pk)).content.decode()
    [sent] = fake_resend.emails
    expected = render_message(
        template, customer_context(customer, unsubscribe_url=preview_unsubscribe_url())
    )
    assert sent["to"] == ["me@example.com"]
    assert (sent["subject"], sent["html"], sent["text"]) == (
        "Hi Asha",
        expected.html,
        expected.text,
    )
    assert f"accepted by Resend (id {sent['id']})" in page


def test_a_refused_test_email_shows_the_error_in_words(logged_in, template, fake_resend, caplog):
    fake_resend.respond_next(500)
    page = send(logged_in, template).content.decode()
    assert "Test email not sent: Resend refused the email (500): Forced 500" in page
    assert "failed" in caplog.text


def test_a_bad_address_sends_nothing(logged_in, template, fake_resend):
    page = send(logged_in, template, to="not-an-address").content.decode()
    assert "type a valid email address" in page
    assert fake_resend.calls == []


def test_without_resend_settings_the_page_explains_what_to_configure(logged_in, template, settings):
    settings.RESEND_API_KEY = ""
    settings.EMAIL_FROM = ""
    page = logged_in.get(reverse("templates_app:detail", args=[template.pk])).content.decode()
    assert "Sending needs RESEND_API_KEY and EMAIL_FROM" in page
    sent = send(logged_in, template).content.decode()
    assert "Sending email needs RESEND_API_KEY and EMAIL_FROM to be set." in sent


def test_whatsapp_templates_are_not_sent(logged_in, fake_resend):
    template = MessageTemplate.objects.create(
        name="WA", type="whatsapp", subject="", message="Hi {{ customer.first_name }}"
    )
    page = send(logged_in, template).content.decode()
    assert "WhatsApp templates cannot be sent yet." in page
    assert fake_resend.calls == []
