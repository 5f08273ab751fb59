"""The read-only role marketers' SQL runs as (second layer of the SQL sandbox).

Role names are cluster-wide, so the role is created only when missing (several
databases on one server share it) and the grants are made per database. When
the app's database user may not create roles or grant them, the migration logs
a warning and the sandbox relies on its other layers (parser allow-list, read
only transaction, statement timeout, one statement per call).
"""

import logging

from django.conf import settings
from django.db import migrations

logger = logging.getLogger("segments")

CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        CREATE ROLE "{role}" NOLOGIN NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another database's migration created it at the same moment
END $$;
"""
GRANTS = [
    'GRANT "{role}" TO CURRENT_USER',
    'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
    'GRANT SELECT ON customers, customer_attributes, funnel_events TO "{role}"',
]


def create_reader_role(apps, schema_editor) -> None:
    role = settings.SEGMENT_SQL_ROLE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        for statement in [CREATE_ROLE, *GRANTS]:
            try:
                cursor.execute("SAVEPOINT segment_role")
                cursor.execute(statement.format(role=role, schema=schema))
                cursor.execute("RELEASE SAVEPOINT segment_role")
            except Exception as error:  # noqa: BLE001 — any refusal means "no role layer"
                cursor.execute("ROLLBACK TO SAVEPOINT segment_role")
                logger.warning(
                    "SQL segments: could not set up the read-only role %r (%s); "
                    "segment SQL will run without it, under the other sandbox layers.",
                    role,
                    str(error).strip().splitlines()[0],
                )
                return


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0001_initial"),
        ("customers", "0002_search_vector"),
        ("funnel", "0002_immutable_events"),
    ]

    operations = [migrations.RunPython(create_reader_role, migrations.RunPython.noop)]
