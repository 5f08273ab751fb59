"""Funnel events are history: the database itself refuses UPDATE and DELETE."""

from django.db import migrations

TRIGGER = """
CREATE FUNCTION funnel_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'funnel_events are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER funnel_events_immutable
    BEFORE UPDATE OR DELETE ON funnel_events
    FOR EACH ROW EXECUTE FUNCTION funnel_events_refuse_change();
"""

REVERSE = """
DROP TRIGGER funnel_events_immutable ON funnel_events;
DROP FUNCTION funnel_events_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("funnel", "0001_initial")]

    operations = [migrations.RunSQL(TRIGGER, reverse_sql=REVERSE)]
