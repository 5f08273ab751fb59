"""The roles — Django groups `viewer`, `marketer` and `admin` — and what each may do.

The one place that names them: the data migration that creates the groups, the users page,
the 403 page and the tests all read this module. Pages and views check permissions
(`user.has_perm`, `{% if perms.app.codename %}`), never group names, so a superuser (who has
every permission) passes every check. The roles are cumulative: viewer ⊂ marketer ⊂ admin.
See docs/roles.md.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AbstractUser, Group
from django.db import DEFAULT_DB_ALIAS, transaction
from django.forms import ModelForm

VIEW_EVERYTHING = "marketing_os.view_everything"
ADD_SEGMENT = "segments.add_customersegment"
CHANGE_SEGMENT = "segments.change_customersegment"
DELETE_SEGMENT = "segments.delete_customersegment"
ADD_TEMPLATE = "templates_app.add_messagetemplate"
CHANGE_TEMPLATE = "templates_app.change_messagetemplate"
DELETE_TEMPLATE = "templates_app.delete_messagetemplate"
SEND_TEST_MESSAGE = "templates_app.send_test_message"
ADD_AUTOMATION = "automations.add_automation"
CHANGE_AUTOMATION = "automations.change_automation"
DELETE_AUTOMATION = "automations.delete_automation"
IMPORT_CSV = "customers.add_importjob"
RUN_AUTOMATION = "automations.run_automation"
RESUBSCRIBE_CUSTOMER = "automations.resubscribe_customer"
ADD_API_KEY = "marketing_os.add_apikey"
CHANGE_API_KEY = "marketing_os.change_apikey"
VIEW_USER = "auth.view_user"
ADD_USER = "auth.add_user"
CHANGE_USER = "auth.change_user"

# What a person is told they may not do when a permission is missing (the 403 page).
ACTIONS = {
    VIEW_EVERYTHING: "read the pages of Marketing OS",
    ADD_SEGMENT: "create segments",
    CHANGE_SEGMENT: "edit, preview, evaluate or upload members of segments",
    DELETE_SEGMENT: "delete segments",
    ADD_TEMPLATE: "create templates",
    CHANGE_TEMPLATE: "edit templates",
    DELETE_TEMPLATE: "delete templates",
    SEND_TEST_MESSAGE: "send test emails of templates",
    ADD_AUTOMATION: "create automations",
    CHANGE_AUTOMATION: "edit automations",
    DELETE_AUTOMATION: "delete automations",
    IMPORT_CSV: "upload CSV files",
    RUN_AUTOMATION: "start an automation's run now",
    RESUBSCRIBE_CUSTOMER: "re-subscribe customers",
    ADD_API_KEY: "create API keys",
    CHANGE_API_KEY: "revoke API keys",
    VIEW_USER: "see the users",
    ADD_USER: "create users",
    CHANGE_USER: "change users' roles",
}


@dataclass(frozen=True)
class Role:
    name: str  # the group's name
    summary: str  # what it may do, in a few words (users page, 403 page, docs)
    permissions: tuple[str, ...]  # every permission, the lower roles' included

    def __str__(self) -> str:
        return self.name


VIEWER = Role("viewer", "reads every page", (VIEW_EVERYTHING,))
MARKETER = Role(
    "marketer",
    "also creates, edits and deletes segments, templates and automations, uploads CSV files, "
    "sends test emails",
    VIEWER.permissions
    + (
        ADD_SEGMENT,
        CHANGE_SEGMENT,
        DELETE_SEGMENT,
        ADD_TEMPLATE,
        CHANGE_TEMPLATE,
        DELETE_TEMPLATE,
        SEND_TEST_MESSAGE,
        ADD_AUTOMATION,
        CHANGE_AUTOMATION,
        DELETE_AUTOMATION,
        IMPORT_CSV,
    ),
)
ADMIN = Role(
    "admin",
    "also runs automations now, re-subscribes customers, manages API keys and users",
    MARKETER.permissions
    + (
        RUN_AUTOMATION,
        RESUBSCRIBE_CUSTOMER,
        ADD_API_KEY,
        CHANGE_API_KEY,
        VIEW_USER,
        ADD_USER,
        CHANGE_USER,
    ),
)
ROLES = (VIEWER, MARKETER, ADMIN)  # lowest first
BY_NAME = {role.name: role for role in ROLES}


def lowest_role_with(permission: str) -> Role | None:
    return next((role for role in ROLES if permission in role.permissions), None)


def highest_role(group_names: Iterable[str]) -> Role | None:
    """The user's role from the names of their groups (the highest if several)."""
    names = set(group_names)
    return next((role for role in reversed(ROLES) if role.name in names), None)


def role_of(user: AbstractUser) -> Role | None:
    """The user's role; reads `user.groups` (prefetch it for a list of users)."""
    return highest_role(group.name for group in user.groups.all())


def set_role(user: AbstractUser, role: Role | None) -> None:
    """Give `user` exactly this role (None: no role); groups that are no role stay."""
    with transaction.atomic():
        user.groups.remove(*Group.objects.filter(name__in=BY_NAME))
        if role is not None:
            user.groups.add(Group.objects.get(name=role.name))


def create_role_groups(*, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the role groups that are missing and grant each its permissions.

    Run by migrations (`apps` is then the historical registry); safe to run again: it only
    adds. A permission whose model does not exist yet at that point of the migration history
    is skipped — the migration that adds the model runs this again. Returns the names of
    the groups it created.
    """
    groups = apps.get_model("auth", "Group").objects.using(using)
    permission_model = apps.get_model("auth", "Permission")
    for label in sorted({perm.split(".")[0] for role in ROLES for perm in role.permissions}):
        # Permissions are otherwise created after `migrate` (post_migrate): too late here.
        create_permissions(global_apps.get_app_config(label), apps=apps, using=using, verbosity=0)
    created = []
    for role in ROLES:
        group, new = groups.get_or_create(name=role.name)
        if new:
            created.append(role.name)
        group.permissions.add(*_permissions(permission_model, role.permissions, using=using))
    return created


def _permissions(permission_model: type, names: Iterable[str], *, using: str) -> list:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found += permission_model.objects.using(using).filter(
            content_type__app_label=app_label, codename=codename
        )
    return found


def save_user(form: ModelForm, *, role: Role | None) -> AbstractUser:
    """Save a user form (a new user, or a user's active flag) and give the user `role`."""
    with transaction.atomic():
        user = form.save()
        set_role(user, role)
    return user
