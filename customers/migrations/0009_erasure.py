"""Erasure (customers.erasure): the tombstone mark, and erased lead ids as keyed hashes.

A nullable column without a default: PostgreSQL adds it without rewriting the table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0008_email_prefix_index'),
    ]

    operations = [
        migrations.CreateModel(
            name='ErasedLead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('lead_key', models.TextField(unique=True)),
                ('erased_at', models.DateTimeField()),
            ],
            options={
                'db_table': 'erased_leads',
            },
        ),
        migrations.AddField(
            model_name='customer',
            name='erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
