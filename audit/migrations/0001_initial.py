"""The audit trail's table; the database itself keeps it append-only.

The trigger refuses DELETE, and UPDATE except the one Django makes when a user
is deleted (ForeignKey SET_NULL: `actor_id` becomes NULL, nothing else
changes), so entries keep their `actor_label` after their user is gone.
"""

import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


TRIGGER = """
CREATE FUNCTION audit_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND to_jsonb(NEW) - 'actor_id' = to_jsonb(OLD) - 'actor_id' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_entries are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_change();
"""

REVERSE = """
DROP TRIGGER audit_entries_append_only ON audit_entries;
DROP FUNCTION audit_entries_refuse_change();
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_pk', models.CharField(db_index=True, max_length=255, verbose_name='object pk')),
                ('object_id', models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name='object id')),
                ('object_repr', models.TextField(verbose_name='object representation')),
                ('serialized_data', models.JSONField(null=True)),
                ('changes_text', models.TextField(blank=True, verbose_name='change message')),
                ('changes', models.JSONField(null=True, verbose_name='change message')),
                ('cid', models.CharField(blank=True, db_index=True, max_length=255, null=True, verbose_name='Correlation ID')),
                ('remote_addr', models.GenericIPAddressField(blank=True, null=True, verbose_name='remote address')),
                ('remote_port', models.PositiveIntegerField(blank=True, null=True, verbose_name='remote port')),
                ('timestamp', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='timestamp')),
                ('additional_data', models.JSONField(blank=True, null=True, verbose_name='additional data')),
                ('actor_email', models.CharField(blank=True, max_length=254, null=True, verbose_name='actor email')),
                ('action', models.PositiveSmallIntegerField(choices=[(0, 'created'), (1, 'changed'), (2, 'deleted'), (3, 'viewed'), (10, 'started a run'), (11, 'uploaded a file'), (12, 're-subscribed'), (13, 'erased personal data')], db_index=True)),
                ('actor_label', models.TextField(blank=True, default='')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('content_type', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype', verbose_name='content type')),
            ],
            options={
                'verbose_name': 'audit entry',
                'verbose_name_plural': 'audit entries',
                'db_table': 'audit_entries',
                'ordering': ['-timestamp', '-id'],
                'get_latest_by': 'timestamp',
                'abstract': False,
                'indexes': [models.Index(fields=['content_type', 'object_id', '-timestamp', '-id'], name='audit_object_idx'), models.Index(fields=['-timestamp', '-id'], name='audit_newest_idx'), models.Index(fields=['action', '-timestamp', '-id'], name='audit_action_idx'), models.Index(django.contrib.postgres.indexes.OpClass(django.db.models.functions.text.Lower('actor_label'), name='text_pattern_ops'), name='audit_actor_idx')],
            },
        ),
        migrations.RunSQL(TRIGGER, reverse_sql=REVERSE),
    ]
