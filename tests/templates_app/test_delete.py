"""Deleting a template from its page: refused while automations send it."""

import pytest
from django.urls import reverse

from templates_app.models import MessageTemplate
from tests.automations.factories import make_automation, make_template

pytestmark = pytest.mark.django_db


def test_deleting_an_unused_template_takes_it_off_the_list(logged_in):
    template = make_template("Spring promo")

    response = logged_in.post(reverse("templates_app:delete", args=[template.pk]), follow=True)

    assert "Message template “Spring promo” deleted." in response.content.decode()
    assert not MessageTemplate.objects.filter(pk=template.pk).exists()


def test_a_template_an_automation_sends_cannot_be_deleted(logged_in):
    template = make_template("Nudge")
    make_automation("Weekly nudge", template=template)
    url = reverse("templates_app:delete", args=[template.pk])

    assert "Automations send this template: “Weekly nudge”" in logged_in.get(url).content.decode()
    logged_in.post(url)
    assert MessageTemplate.objects.filter(pk=template.pk).exists()


def test_a_viewer_sees_no_delete_button(viewer_client, logged_in):
    template = make_template()
    detail, url = template.get_absolute_url(), reverse("templates_app:delete", args=[template.pk])

    assert url in logged_in.get(detail).content.decode()
    assert url not in viewer_client.get(detail).content.decode()
