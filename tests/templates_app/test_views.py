import importlib
import re

import pytest
from django.apps import apps
from django.urls import reverse

from customers.personalisation import customer_context, sample_context
from templates_app.models import MessageTemplate
from templates_app.previews import preview_unsubscribe_url
from templates_app.rendering import render_message
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

MESSAGE = (
    "<mjml><mj-body><mj-section><mj-column>\n"
    "<mj-text>Hi {{ customer.first_name }}, {{ customer.attributes.course }}</mj-text>\n"
    '<mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button>\n'
    "</mj-column></mj-section></mj-body></mjml>"
)


def make_template(**fields) -> MessageTemplate:
    values = {"name": "Welcome", "type": "email", "subject": "Hi {{ customer.first_name }}"}
    return MessageTemplate.objects.create(**(values | {"message": MESSAGE} | fields))


def form_data(**fields) -> dict:
    return {"name": "Welcome", "type": "email", "subject": "Hello", "message": MESSAGE} | fields


def test_the_data_migration_creates_two_starter_templates_that_render():
    # Run the migration's function itself: transactional tests elsewhere in
    # the session may have flushed what the migration stored.
    starters = importlib.import_module("templates_app.migrations.0002_starter_templates")
    MessageTemplate.objects.all().delete()
    starters.create_starters(apps, schema_editor=None)
    starters.create_starters(apps, schema_editor=None)  # running twice adds nothing
    created = MessageTemplate.objects.filter(name__startswith="Starter:")
    assert created.count() == 2
    for starter in created:
        rendered = render_message(starter, sample_context(unsubscribe_url="https://u/"))
        assert "Priya" in rendered.subject and "Priya" in rendered.html
        assert "Unsubscribe (https://u/)" in rendered.text


def test_the_list_searches_by_name_and_type(logged_in):
    make_template(name="Intake reminder")
    make_template(name="Intake on WhatsApp", type="whatsapp", subject="", message="Hi")
    make_template(name="Newsletter")
    page = logged_in.get(reverse("templates_app:list"), {"q": "intake", "type": "whatsapp"})
    assert page.status_code == 200
    names = re.findall(r'<a href="/templates/\d+/">([^<]+)</a>', page.content.decode())
    assert names == ["Intake on WhatsApp"]


def test_the_list_paginates_with_few_queries(logged_in, django_assert_max_num_queries):
    for n in range(60):
        make_template(name=f"Template {n:02d}")
    with django_assert_max_num_queries(6):
        page = logged_in.get(reverse("templates_app:list"), {"q": "template", "page": 2})
    assert page.status_code == 200
    assert "Template 59" in page.content.decode()
    assert "Template 00" not in page.content.decode()


def test_the_list_needs_a_login(client):
    assert client.get(reverse("templates_app:list")).status_code == 302


def test_the_detail_page_shows_the_preview_frame_source_and_variables(logged_in):
    template = make_template()
    page = logged_in.get(reverse("templates_app:detail", args=[template.pk])).content.decode()
    assert re.search(r"<iframe[^>]*\bsandbox\b(?!=)[^>]*>", page)
    assert "allow-scripts" not in page and "allow-same-origin" not in page
    assert "&lt;mj-text&gt;Hi {{ customer.first_name }}" in page
    assert "<code>customer.attributes.course</code>" in page


def test_with_no_customers_the_built_in_sample_is_used(logged_in):
    template = make_template()
    page = logged_in.get(reverse("templates_app:detail", args=[template.pk])).content.decode()
    assert "Built-in sample (Priya Sharma)" in page
    assert "Hi Priya" in page  # the rendered subject


def test_the_marketer_can_find_and_pick_a_sample_customer(logged_in):
    make_customer(first_name="Zoya", last_name="Khan", email="zoya@example.com")
    template = make_template()
    url = reverse("templates_app:detail", args=[template.pk])
    found = logged_in.get(url, {"customer_q": "zoy"}).content.decode()
    customer_id = re.search(r'href="\?customer=(\d+)">Zoya Khan', found).group(1)
    page = logged_in.get(url, {"customer": customer_id}).content.decode()
    assert "Zoya Khan &lt;zoya@example.com&gt;" in page
    assert "no value for this customer" in page  # Zoya has no course attribute


def test_the_preview_is_byte_for_byte_what_the_customer_gets(logged_in):
    customer = make_customer(first_name="Asha", attributes={"course": ("string", "MBA")})
    template = make_template()
    url = reverse("templates_app:preview", args=[template.pk])
    response = logged_in.get(url, {"customer": customer.pk})
    expected = render_message(
        template, customer_context(customer, unsubscribe_url=preview_unsubscribe_url())
    )
    assert response.content.decode() == expected.html


def test_the_preview_frame_gets_a_strict_policy_of_its_own(logged_in):
    template = make_template(message=MESSAGE.replace("Hi", "<mj-raw><script>x()</script></mj-raw>"))
    response = logged_in.get(reverse("templates_app:preview", args=[template.pk]))
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy  # falls back to default-src 'none'
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_customer_data_is_shown_as_text_in_the_preview(logged_in):
    customer = make_customer(first_name="<script>alert(1)</script>")
    template = make_template()
    response = logged_in.get(
        reverse("templates_app:preview", args=[template.pk]), {"customer": customer.pk}
    )
    assert b"<script>alert(1)</script>" not in response.content
    assert b"Hi &lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_creating_a_template_saves_it(logged_in):
    response = logged_in.post(reverse("templates_app:create"), form_data(name="Fresh"))
    template = MessageTemplate.objects.get(name="Fresh")
    assert response.status_code == 302
    assert response["Location"] == reverse("templates_app:detail", args=[template.pk])


def test_a_template_that_does_not_parse_is_not_saved_and_the_form_shows_the_line(logged_in):
    broken = MESSAGE.replace("{{ customer.attributes.course }}", "{% if x %}")
    response = logged_in.post(
        reverse("templates_app:create"), form_data(name="Broken", message=broken)
    )
    assert response.status_code == 200
    assert "Line 2: {% if %} is never closed with {% endif %}" in response.content.decode()
    assert not MessageTemplate.objects.filter(name="Broken").exists()


def test_mjml_that_does_not_parse_is_not_saved(logged_in):
    template = make_template()
    broken = MESSAGE.replace("</mj-column>", "")
    url = reverse("templates_app:edit", args=[template.pk])
    response = logged_in.post(url, form_data(message=broken))
    assert "MJML does not parse" in response.content.decode()
    template.refresh_from_db()
    assert template.message == MESSAGE


def test_an_email_needs_a_subject_but_whatsapp_does_not(logged_in):
    url = reverse("templates_app:create")
    email = logged_in.post(url, form_data(name="No subject", subject=""))
    assert "An email needs a subject." in email.content.decode()
    whatsapp = logged_in.post(
        url,
        form_data(name="WA", type="whatsapp", subject="", message="Hi {{ customer.first_name }}"),
    )
    assert whatsapp.status_code == 302


def test_the_edit_page_has_the_editor_and_a_live_preview_frame(logged_in):
    template = make_template()
    page = logged_in.get(reverse("templates_app:edit", args=[template.pk])).content.decode()
    assert 'class="code-gutter"' in page
    assert 'target="preview-frame"' in page
    assert "templates_app/editor.js" in page
    assert "<script>" not in page  # CSP: script-src 'self', no inline scripts


def test_the_draft_check_reports_variables_missing_for_the_sample_and_errors(logged_in):
    customer = make_customer(first_name="Asha")
    url = reverse("templates_app:draft_check")
    result = logged_in.post(url, form_data(customer=str(customer.pk))).json()
    assert result["subject"] == "Hello"
    assert {"name": "customer.attributes.course", "missing": True} in result["variables"]
    assert {"name": "customer.first_name", "missing": False} in result["variables"]
    broken = logged_in.post(url, form_data(subject="{{ oops")).json()
    assert broken["errors"] == ["subject: line 1: expected '}}', found end of file"]


def test_the_draft_preview_renders_unsaved_text_into_the_frame(logged_in):
    response = logged_in.post(
        reverse("templates_app:draft_preview"),
        form_data(message=MESSAGE.replace("Hi", "Draft for"), customer="sample"),
    )
    assert b"Draft for Priya" in response.content
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_draft_endpoints_refuse_posts_without_a_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for name in ("draft_preview", "draft_check"):
        assert client.post(reverse(f"templates_app:{name}"), form_data()).status_code == 403


def test_whatsapp_templates_preview_as_plain_text(logged_in):
    template = make_template(
        type="whatsapp", subject="", message="Hi {{ customer.first_name }} <b>"
    )
    response = logged_in.get(reverse("templates_app:preview", args=[template.pk]))
    assert b'<div class="bubble">Hi Priya &lt;b&gt;</div>' in response.content


def test_sample_customers_are_found_by_name_or_email(logged_in):
    customer = make_customer(first_name="Meera", last_name="Iyer", email="meera@example.com")
    make_customer(first_name="Ravi")
    found = logged_in.get(reverse("templates_app:sample_customers"), {"q": "meera@"}).json()
    assert found == {"customers": [{"id": customer.pk, "label": "Meera Iyer <meera@example.com>"}]}


def test_an_unknown_template_is_a_404(logged_in):
    assert logged_in.get(reverse("templates_app:detail", args=[999999])).status_code == 404


def test_liquid_properties_like_size_are_not_reported_missing(logged_in):
    message = MESSAGE.replace(
        "{{ customer.attributes.course }}", "{{ customer.attributes.interests.size }}"
    )
    result = logged_in.post(
        reverse("templates_app:draft_check"), form_data(message=message, customer="sample")
    ).json()
    assert {"name": "customer.attributes.interests.size", "missing": False} in result["variables"]
