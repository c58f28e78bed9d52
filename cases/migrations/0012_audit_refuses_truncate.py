"""On PostgreSQL, TRUNCATE of the audit table is refused too (row triggers do
not see it). Only a session that sets riskreview.audit_truncate = 'allow' may
(the test suite, which empties tables between transactional tests); the app
never does. See README, "Audit", for running the app as a role that does not
own the table, so it cannot drop the trigger either."""

from django.db import migrations

CREATE = """
CREATE FUNCTION cases_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('riskreview.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_auditevent_no_truncate
    BEFORE TRUNCATE ON cases_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION cases_auditevent_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS cases_auditevent_no_truncate ON cases_auditevent;
DROP FUNCTION IF EXISTS cases_auditevent_no_truncate();
"""


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_webhook_delivery_cancelled")]

    operations = [migrations.RunPython(_on_postgres(CREATE), _on_postgres(DROP))]
