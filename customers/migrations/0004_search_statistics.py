"""Finer statistics on the search column, so the planner knows rare words from common ones.

With the default statistics target the planner guesses that a rare prefix
("user4242@example.com") matches 0.5 % of customers and walks the whole
created_date index looking for a page of them (about 300 ms on a million
customers); with a target of 1000 it estimates a handful and reads the GIN
index (a few ms), while common prefixes still walk the index. ANALYZE of the
table then samples 300,000 rows (seconds, done by autovacuum).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_import_jobs")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE customers ALTER COLUMN search_vector SET STATISTICS 1000;",
            reverse_sql="ALTER TABLE customers ALTER COLUMN search_vector SET STATISTICS -1;",
        ),
    ]
