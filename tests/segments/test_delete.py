"""Deleting a segment from its page: confirmed, refused while automations send to it, audited."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.models import AuditEntry
from segments.models import CustomerSegment, CustomerSegmentCustomer
from tests.automations.factories import make_automation
from tests.factories import make_customers
from tests.segments.factories import make_manual_segment

pytestmark = pytest.mark.django_db


def delete_url(segment: CustomerSegment) -> str:
    return reverse("segments:delete", args=[segment.pk])


def test_the_detail_page_offers_delete_to_a_marketer_and_not_to_a_viewer(logged_in, viewer_client):
    segment = make_manual_segment([])
    detail = reverse("segments:detail", args=[segment.pk])

    assert delete_url(segment) in logged_in.get(detail).content.decode()
    assert delete_url(segment) not in viewer_client.get(detail).content.decode()


def test_it_asks_before_deleting(logged_in):
    segment = make_manual_segment([], name="Old leads")

    page = logged_in.get(delete_url(segment)).content.decode()

    assert "Delete the customer segment “Old leads”?" in page
    assert CustomerSegment.objects.filter(pk=segment.pk).exists()


def test_deleting_removes_the_segment_and_its_list_and_records_who(logged_in, user):
    segment = make_manual_segment(make_customers(3), name="Old leads")

    response = logged_in.post(delete_url(segment), follow=True)

    assert response.redirect_chain[-1][0] == reverse("segments:list")
    assert "Customer segment “Old leads” deleted." in response.content.decode()
    assert not CustomerSegment.objects.filter(pk=segment.pk).exists()
    assert not CustomerSegmentCustomer.objects.exists()
    content_type = ContentType.objects.get_for_model(CustomerSegment)
    [entry] = AuditEntry.objects.filter(
        content_type=content_type, object_id=segment.pk, action=AuditEntry.Action.DELETE
    )
    assert (entry.actor, entry.object_repr) == (user, "Old leads")


def test_a_segment_an_automation_sends_to_cannot_be_deleted(logged_in):
    segment = make_manual_segment([], name="Leads")
    make_automation("Weekly nudge", segment=segment)

    page = logged_in.get(delete_url(segment)).content.decode()
    assert "Automations send to this segment: “Weekly nudge”" in page
    assert 'type="submit" class="btn btn-danger"' not in page

    response = logged_in.post(delete_url(segment), follow=True)
    assert "The customer segment was not deleted." in response.content.decode()
    assert CustomerSegment.objects.filter(pk=segment.pk).exists()


def test_deleting_a_segment_that_is_gone_is_a_404(logged_in):
    segment = make_manual_segment([])
    url = delete_url(segment)
    CustomerSegment.objects.filter(pk=segment.pk).delete()

    assert logged_in.post(url).status_code == 404
