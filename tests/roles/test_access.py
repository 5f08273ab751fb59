"""Read pages need a role; navigation and pages show only what the role may do."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from automations.models import Suppression
from automations.unsubscribe import make_token
from customers.models import Customer
from marketing_os.models import create_api_key
from marketing_os.roles import ADMIN, MARKETER, VIEWER
from tests.automations.factories import make_automation
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

READ_PAGES = [
    "/customers/",
    "/events/",
    "/segments/",
    "/templates/",
    "/automations/",
    "/imports/",
    "/audit/",
]


@pytest.fixture
def no_role_client() -> Client:
    client = Client()
    client.force_login(make_user("newcomer", None))
    return client


def nav_links(html: str) -> list[str]:
    nav = html.split('<nav class="navbar', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'class="nav-link[^"]*" href="[^"]*">([^<]+)</a>', nav)


@pytest.mark.parametrize("path", READ_PAGES)
def test_a_user_without_a_role_gets_the_no_role_page_everywhere(no_role_client, path):
    response = no_role_client.get(path)

    assert response.status_code == 403
    page = response.content.decode()
    assert "Your account has no role yet" in page and "Ask an admin" in page
    assert "<strong>viewer</strong> — reads every page" in page
    assert nav_links(page) == []  # no links that would only lead here again
    assert "Log out" in page


def test_a_user_without_a_role_can_still_log_out(no_role_client):
    response = no_role_client.post(reverse("logout"))

    assert response.status_code == 302
    assert no_role_client.get("/customers/").status_code == 302  # to the login page


def test_pages_without_login_stay_open_to_a_user_without_a_role(no_role_client):
    customer = make_customer()

    assert no_role_client.get("/healthz").status_code == 200
    assert no_role_client.get(reverse("login")).status_code == 200
    assert no_role_client.get(f"/unsubscribe/{make_token(customer.pk)}/").status_code == 200


def test_the_api_takes_keys_whatever_the_signed_in_user_s_role(no_role_client):
    _, raw_key = create_api_key("lms")

    response = no_role_client.post(
        "/api/v1/customers",
        {"lms_lead_id": "L-1"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw_key}"},
    )

    assert response.status_code == 200
    assert Customer.objects.filter(lms_lead_id="L-1").exists()


def test_a_viewer_reads_every_page(viewer_client):
    for path in READ_PAGES:
        assert viewer_client.get(path).status_code == 200, path


READER_LINKS = [
    "Customers",
    "Funnel events",
    "Segments",
    "Templates",
    "Automations",
    "Imports",
    "Audit trail",
]


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (VIEWER, READER_LINKS),
        (MARKETER, READER_LINKS),
        (ADMIN, [*READER_LINKS, "Users", "API keys"]),
    ],
    ids=str,
)
def test_the_nav_shows_users_and_api_keys_only_to_admins(role, links):
    client = Client()
    client.force_login(make_user("someone", role))

    assert nav_links(client.get("/customers/").content.decode()) == links


def test_a_viewer_sees_no_buttons_that_would_change_anything(viewer_client):
    automation = make_automation()
    customer = make_customer(email="asha@example.com")
    Suppression.objects.create(email="asha@example.com", reason="link", customer=customer)
    segment, template = automation.customer_segment, automation.message_template
    pages = {
        "/customers/": ["Upload customers CSV"],
        "/events/": ["Upload events CSV"],
        "/imports/": ["Upload a CSV file"],
        "/segments/": ["New segment"],
        f"/segments/{segment.pk}/": [">Edit<", "Re-evaluate"],
        "/templates/": ["New template"],
        f"/templates/{template.pk}/": [">Edit<", "Send test email"],
        "/automations/": ["New automation"],
        f"/automations/{automation.pk}/": [">Edit<", "Run now"],
        f"/customers/{customer.pk}/": ["Re-subscribe"],
    }
    for path, hidden in pages.items():
        page = viewer_client.get(path).content.decode()
        for text in hidden:
            assert text not in page, (path, text)
    assert "is suppressed" in viewer_client.get(f"/customers/{customer.pk}/").content.decode()


def test_a_marketer_sees_the_editing_buttons_but_not_run_now_or_re_subscribe(logged_in):
    automation = make_automation()
    customer = make_customer(email="asha@example.com")
    Suppression.objects.create(email="asha@example.com", reason="link", customer=customer)

    automation_page = logged_in.get(f"/automations/{automation.pk}/").content.decode()
    customer_page = logged_in.get(f"/customers/{customer.pk}/").content.decode()
    template_page = logged_in.get(f"/templates/{automation.message_template_id}/").content

    assert ">Edit<" in automation_page and "Run now" not in automation_page
    assert "Re-subscribe" not in customer_page
    assert "Upload customers CSV" in logged_in.get("/customers/").content.decode()
    assert "Send test email" in template_page.decode()


def test_an_admin_sees_run_now_and_re_subscribe(admin_client):
    automation = make_automation()
    customer = make_customer(email="asha@example.com")
    Suppression.objects.create(email="asha@example.com", reason="link", customer=customer)

    assert "Run now" in admin_client.get(f"/automations/{automation.pk}/").content.decode()
    assert "Re-subscribe" in admin_client.get(f"/customers/{customer.pk}/").content.decode()


def test_a_deactivated_user_is_signed_out_at_their_next_click(logged_in, user):
    user.is_active = False
    user.save()

    response = logged_in.get("/customers/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")
