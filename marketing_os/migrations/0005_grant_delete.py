"""Marketers may delete segments, templates and automations (marketing_os/roles.py).

Re-runs the role set-up, which only adds the permissions a group lacks: nobody's groups
change.
"""

from django.db import migrations

from marketing_os.roles import create_role_groups


def grant(apps, schema_editor):
    create_role_groups(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("marketing_os", "0004_roles"),
        ("automations", "0005_merge_roles_and_erasure"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
