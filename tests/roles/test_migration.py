"""The data migration that creates the role groups, on a database that already has users."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from marketing_os import roles
from tests.factories import make_user

pytestmark = pytest.mark.django_db

BEFORE = [("marketing_os", "0003_access")]
AFTER = [("marketing_os", "0004_roles")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def granted(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_the_groups_hold_exactly_the_permissions_of_the_roles_scheme():
    roles.create_role_groups()  # a transactional test's flush may have emptied the tables

    assert granted("viewer") == {"marketing_os.view_everything"}
    assert granted("marketer") == {
        "marketing_os.view_everything",
        "segments.add_customersegment",
        "segments.change_customersegment",
        "segments.delete_customersegment",
        "templates_app.add_messagetemplate",
        "templates_app.change_messagetemplate",
        "templates_app.delete_messagetemplate",
        "templates_app.send_test_message",
        "automations.add_automation",
        "automations.change_automation",
        "automations.delete_automation",
        "customers.add_importjob",
    }
    assert granted("admin") == granted("marketer") | {
        "automations.run_automation",
        "automations.resubscribe_customer",
        "marketing_os.add_apikey",
        "marketing_os.change_apikey",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
    }
    deletable = {"segments", "templates_app", "automations"}  # nothing else is deleted in the UI
    assert {p.split(".")[0] for p in granted("admin") if ".delete_" in p} == deletable


def test_upgrading_makes_existing_users_marketers_and_leaves_superusers_alone(
    django_user_model,
):
    migrate(BEFORE)
    Group.objects.filter(name__in=roles.BY_NAME).delete()  # as before roles existed
    existing = django_user_model.objects.create_user("asha", password="a-long-test-password")
    root = django_user_model.objects.create_superuser("root", password="a-long-test-password")

    migrate(AFTER)

    assert roles.role_of(existing) is roles.MARKETER
    assert roles.role_of(root) is None and root.has_perm(roles.RUN_AUTOMATION)
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "marketer", "admin"}


def test_running_it_again_adds_nothing_and_gives_nobody_a_role():
    roles.create_role_groups()
    newcomer = make_user("newcomer", None)
    viewer = make_user("vera", roles.VIEWER)
    before = {name: granted(name) for name in roles.BY_NAME}

    migrate(BEFORE)
    migrate(AFTER)

    assert {name: granted(name) for name in roles.BY_NAME} == before
    assert Group.objects.filter(name__in=roles.BY_NAME).count() == 3
    assert roles.role_of(newcomer) is None
    assert roles.role_of(viewer) is roles.VIEWER


def test_set_role_replaces_the_role_and_keeps_other_groups():
    user = make_user("asha", roles.ADMIN)
    other = Group.objects.create(name="newsletter team")
    user.groups.add(other)

    roles.set_role(user, roles.VIEWER)

    assert set(user.groups.values_list("name", flat=True)) == {"viewer", "newsletter team"}
    roles.set_role(user, None)
    assert list(user.groups.values_list("name", flat=True)) == ["newsletter team"]
