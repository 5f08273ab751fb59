"""An e-mail-shaped search ("priya.sharma@exa") is a prefix match on lower(email).

The tsvector statistics cannot tell the planner such a word is rare, so it
walked the whole list in date order filtering half a million rows; this index
answers it directly.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_drop_redundant_created_index")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX customers_email_prefix_idx ON customers "
            "(lower(email) text_pattern_ops);",
            reverse_sql="DROP INDEX customers_email_prefix_idx;",
        ),
        # Expression indexes get statistics only from ANALYZE; without them the
        # planner would still guess "thousands of matches".
        migrations.RunSQL("ANALYZE customers;", reverse_sql=migrations.RunSQL.noop
        ),
    ]
