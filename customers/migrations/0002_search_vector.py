"""Free-text search without pg_trgm: a generated tsvector column, GIN-indexed.

The 'simple' configuration keeps words as typed (no stemming), which suits
names, e-mail addresses and ids. The mobile number is added digits-only too so
"98765" finds "+91 98765 43210".
"""

from django.db import migrations

SEARCH_VECTOR = """
ALTER TABLE customers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig,
        coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' ||
        coalesce(email, '') || ' ' || replace(coalesce(email, ''), '@', ' ') || ' ' ||
        coalesce(lms_lead_id, '') || ' ' || coalesce(mobile, '') || ' ' ||
        regexp_replace(coalesce(mobile, ''), '[^0-9]', '', 'g'))
) STORED;
CREATE INDEX customers_search_idx ON customers USING gin (search_vector);
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RunSQL(
            SEARCH_VECTOR,
            reverse_sql="ALTER TABLE customers DROP COLUMN search_vector;",
        ),
    ]
