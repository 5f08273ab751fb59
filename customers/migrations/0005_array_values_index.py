"""A GIN index over array attribute values.

`value_matches` looks for a typed-in value as the whole value OR as a member of
an array value. Without an index for the array half, that OR defeats the
(field_name, field_value) btree and an attribute filter reads every attribute
row. Only array rows are indexed, so the index stays small.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_search_statistics")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX attributes_array_values_idx ON customer_attributes "
            "USING gin (field_value jsonb_path_ops) WHERE field_type = 'array';",
            reverse_sql="DROP INDEX attributes_array_values_idx;",
        ),
    ]
