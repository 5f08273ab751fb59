"""Every write view and form page checks its permission: a role below is refused with the 403
page and nothing changes; the lowest role that may do it succeeds (docs/roles.md)."""

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from automations import run_views
from automations.models import Automation, Run, Suppression
from customers.models import ImportJob
from marketing_os.models import ApiKey, create_api_key
from marketing_os.roles import ADMIN, MARKETER, ROLES, VIEWER, Role
from segments.models import CustomerSegment
from templates_app.models import MessageTemplate
from tests.automations.sending_factories import (
    make_email_template,
    make_recipients,
    make_sending_automation,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db
SQL = "SELECT id FROM customers"


@pytest.fixture
def things(fake_resend, monkeypatch):
    started = []
    monkeypatch.setattr(
        run_views, "start_background_run", lambda a, **_: started.append(a.pk) or ""
    )
    [customer] = make_recipients(1)
    Suppression.objects.create(email=customer.email, reason="link", customer=customer)
    automation = make_sending_automation([customer], template=make_email_template())
    segment = CustomerSegment.objects.create(name="All", type="sql", selection_sql=SQL)
    other = make_user("someone", VIEWER)
    api_key, _ = create_api_key("upstream")
    return SimpleNamespace(
        api_key=api_key,
        customer=customer,
        automation=automation,
        segment=segment,
        template=automation.message_template,
        spare_template=make_email_template(),
        other=other,
        started=started,
        resend=fake_resend,
    )


def snapshot(t: SimpleNamespace) -> tuple:
    """Everything one of the actions below could change."""
    User = get_user_model()
    return (
        list(CustomerSegment.objects.order_by("pk").values_list("name", "last_evaluated_date")),
        list(MessageTemplate.objects.order_by("pk").values_list("name", "subject")),
        list(Automation.objects.order_by("pk").values_list("name", "cron")),
        Suppression.objects.count(),
        ImportJob.objects.count(),
        Run.objects.count(),
        list(t.started),
        len(t.resend.emails),
        list(User.objects.order_by("pk").values_list("username", "is_active", "groups__name")),
        list(ApiKey.objects.order_by("pk").values_list("name", "revoked_at")),
    )


def template_form(**fields) -> dict:
    message = "<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column>"
    message += "</mj-section></mj-body></mjml>"
    return {"name": "New one", "type": "email", "subject": "Hello", "message": message} | fields


def automation_form(t, **fields) -> dict:
    return {
        "name": "Evenings",
        "customer_segment": t.segment.pk,
        "message_template": t.template.pk,
        "cron": "0 18 * * *",
        "is_active": "on",
        "send_policy": "every_run",
    } | fields


@dataclass
class Action:
    name: str
    method: str
    url: callable
    role: Role  # the lowest role that may
    data: callable = lambda t: None
    writes: bool = False  # a success changes the snapshot

    def __str__(self) -> str:
        return self.name


ACTIONS = [
    Action("new segment page", "get", lambda t: reverse("segments:new"), MARKETER),
    Action(
        "create a segment",
        "post",
        lambda t: reverse("segments:new"),
        MARKETER,
        lambda t: {"name": "Fresh", "type": "sql", "selection_sql": SQL, "upload_mode": "replace"},
        writes=True,
    ),
    Action(
        "edit segment page",
        "get",
        lambda t: reverse("segments:edit", args=[t.segment.pk]),
        MARKETER,
    ),
    Action(
        "edit a segment",
        "post",
        lambda t: reverse("segments:edit", args=[t.segment.pk]),
        MARKETER,
        lambda t: {
            "name": "Renamed",
            "type": "sql",
            "selection_sql": SQL,
            "upload_mode": "replace",
        },
        writes=True,
    ),
    Action(
        "preview a segment's SQL",
        "post",
        lambda t: reverse("segments:edit", args=[t.segment.pk]),
        MARKETER,
        lambda t: {"name": "All", "type": "sql", "selection_sql": SQL, "preview": "1"},
    ),
    Action(
        "evaluate a segment",
        "post",
        lambda t: reverse("segments:evaluate", args=[t.segment.pk]),
        MARKETER,
        writes=True,
    ),
    Action("new template page", "get", lambda t: reverse("templates_app:create"), MARKETER),
    Action(
        "create a template",
        "post",
        lambda t: reverse("templates_app:create"),
        MARKETER,
        lambda t: template_form(),
        writes=True,
    ),
    Action(
        "edit template page",
        "get",
        lambda t: reverse("templates_app:edit", args=[t.template.pk]),
        MARKETER,
    ),
    Action(
        "edit a template",
        "post",
        lambda t: reverse("templates_app:edit", args=[t.template.pk]),
        MARKETER,
        lambda t: template_form(name="Renamed"),
        writes=True,
    ),
    Action(
        "the editor's live preview",
        "post",
        lambda t: reverse("templates_app:draft_preview"),
        MARKETER,
        lambda t: template_form(),
    ),
    Action(
        "the editor's check",
        "post",
        lambda t: reverse("templates_app:draft_check"),
        MARKETER,
        lambda t: template_form(),
    ),
    Action(
        "the editor's sample customers",
        "get",
        lambda t: reverse("templates_app:sample_customers") + "?q=ravi",
        MARKETER,
    ),
    Action(
        "send a test email",
        "post",
        lambda t: reverse("templates_app:test_send", args=[t.template.pk]),
        MARKETER,
        lambda t: {"to": "me@example.com"},
        writes=True,
    ),
    Action("new automation page", "get", lambda t: reverse("automations:new"), MARKETER),
    Action(
        "create an automation",
        "post",
        lambda t: reverse("automations:new"),
        MARKETER,
        automation_form,
        writes=True,
    ),
    Action(
        "edit automation page",
        "get",
        lambda t: reverse("automations:edit", args=[t.automation.pk]),
        MARKETER,
    ),
    Action(
        "edit an automation",
        "post",
        lambda t: reverse("automations:edit", args=[t.automation.pk]),
        MARKETER,
        lambda t: automation_form(t, name="Renamed"),
        writes=True,
    ),
    Action(
        "the cron builder's preview",
        "get",
        lambda t: reverse("automations:cron_preview") + "?expression=0+9+*+*+*",
        MARKETER,
    ),
    Action("upload page", "get", lambda t: reverse("imports:new"), MARKETER),
    Action(
        "upload a CSV file",
        "post",
        lambda t: reverse("imports:new"),
        MARKETER,
        lambda t: {"kind": "customers", "file": SimpleUploadedFile("p.csv", b"lms_lead_id\nL-9\n")},
        writes=True,
    ),
    Action(
        "run now page",
        "get",
        lambda t: reverse("automations:run_now", args=[t.automation.pk]),
        ADMIN,
    ),
    Action(
        "run now",
        "post",
        lambda t: reverse("automations:run_now", args=[t.automation.pk]),
        ADMIN,
        writes=True,
    ),
    Action(
        "re-subscribe a customer",
        "post",
        lambda t: reverse("automations:customer_resubscribe", args=[t.customer.pk]),
        ADMIN,
        lambda t: {"reason": "Asked by phone"},
        writes=True,
    ),
    Action("users page", "get", lambda t: reverse("users:list"), ADMIN),
    Action("new user page", "get", lambda t: reverse("users:new"), ADMIN),
    Action(
        "create a user",
        "post",
        lambda t: reverse("users:new"),
        ADMIN,
        lambda t: {
            "username": "newbie",
            "email": "n@example.com",
            "role": "viewer",
            "password1": "correct-horse-battery",
            "password2": "correct-horse-battery",
        },
        writes=True,
    ),
    Action(
        "delete segment page",
        "get",
        lambda t: reverse("segments:delete", args=[t.segment.pk]),
        MARKETER,
    ),
    Action(
        "delete a segment",
        "post",
        lambda t: reverse("segments:delete", args=[t.segment.pk]),
        MARKETER,
        writes=True,
    ),
    Action(
        "delete a template",
        "post",
        lambda t: reverse("templates_app:delete", args=[t.spare_template.pk]),
        MARKETER,
        writes=True,
    ),
    Action(
        "delete an automation",
        "post",
        lambda t: reverse("automations:delete", args=[t.automation.pk]),
        MARKETER,
        writes=True,
    ),
    Action("edit user page", "get", lambda t: reverse("users:edit", args=[t.other.pk]), ADMIN),
    Action(
        "change a user's role",
        "post",
        lambda t: reverse("users:edit", args=[t.other.pk]),
        ADMIN,
        lambda t: {"role": "marketer", "is_active": "on"},
        writes=True,
    ),
    Action("API keys page", "get", lambda t: reverse("api_keys:list"), ADMIN),
    Action("new API key page", "get", lambda t: reverse("api_keys:new"), ADMIN),
    Action(
        "create an API key",
        "post",
        lambda t: reverse("api_keys:new"),
        ADMIN,
        lambda t: {"name": "CRM", "scopes": ["ingest"], "rate_limit_per_minute": ""},
        writes=True,
    ),
    Action("API key page", "get", lambda t: reverse("api_keys:detail", args=[t.api_key.pk]), ADMIN),
    Action(
        "revoke API key page",
        "get",
        lambda t: reverse("api_keys:revoke", args=[t.api_key.pk]),
        ADMIN,
    ),
    Action(
        "revoke an API key",
        "post",
        lambda t: reverse("api_keys:revoke", args=[t.api_key.pk]),
        ADMIN,
        writes=True,
    ),
]
REFUSALS = [(action, role) for action in ACTIONS for role in ROLES[: ROLES.index(action.role)]]


def client_of(role: Role) -> Client:
    client = Client()
    client.force_login(make_user(f"a-{role.name}", role))
    return client


def act(client: Client, action: Action, t: SimpleNamespace):
    return getattr(client, action.method)(action.url(t), action.data(t))


@pytest.mark.parametrize(("action", "role"), REFUSALS, ids=str)
def test_a_lower_role_is_refused_and_nothing_changes(things, action, role):
    client = client_of(role)
    before = snapshot(things)

    response = act(client, action, things)

    assert response.status_code == 403
    page = response.content.decode()
    assert f"<strong>{action.role.name}</strong>" in page and "Ask an admin" in page
    assert snapshot(things) == before


@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_the_role_that_may_do_it_succeeds(things, action):
    client = client_of(action.role)
    before = snapshot(things)

    response = act(client, action, things)

    assert response.status_code in (200, 302)
    if action.method == "get":
        assert response.status_code == 200
    if action.writes:
        assert snapshot(things) != before


def test_a_superuser_may_do_what_an_admin_may(things, superuser_client):
    response = superuser_client.post(
        reverse("automations:customer_resubscribe", args=[things.customer.pk]),
        {"reason": "Asked by phone"},
    )

    assert response.status_code == 302
    assert not Suppression.objects.exists()
