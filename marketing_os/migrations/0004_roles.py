"""The role groups viewer, marketer and admin with their permissions (marketing_os/roles.py).

Runs on a database that already has users: before roles, every login could do everything
a marketer does (and more), so when the groups are first created every existing user who is
not a superuser becomes a marketer — nobody is locked out by the upgrade, and an admin then
gives each person the role they should have. Once the groups exist (running it again after
a rollback) it only adds missing permissions and never touches anyone's groups. Going back
keeps the groups (nothing reads them without this code; dropping them would lose who has
which role).
"""

from django.db import migrations

from marketing_os.roles import MARKETER, create_role_groups


def create_roles(apps, schema_editor):
    using = schema_editor.connection.alias
    created = create_role_groups(apps=apps, using=using)
    if MARKETER.name not in created:
        return
    User = apps.get_model("auth", "User")
    marketer = apps.get_model("auth", "Group").objects.using(using).get(name=MARKETER.name)
    existing = User.objects.using(using).filter(is_superuser=False)
    marketer.user_set.add(*existing)


class Migration(migrations.Migration):
    dependencies = [
        ("marketing_os", "0003_access"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0003_import_jobs"),
        ("segments", "0001_initial"),
        ("templates_app", "0003_send_test_permission"),
        ("automations", "0004_custom_permissions"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
