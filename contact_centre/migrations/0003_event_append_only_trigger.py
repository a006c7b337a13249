"""On PostgreSQL, the database itself refuses UPDATE and DELETE on ledger events.

Defence in depth: the hash chain (ledger_verify) still catches anyone who disables the trigger.
"""

from django.db import migrations

# %% is a literal % for PL/pgSQL: the driver treats a lone % as a placeholder.
CREATE = """
CREATE OR REPLACE FUNCTION contact_centre_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger events are append-only (%% refused on event seq %%)', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER contact_centre_event_append_only
    BEFORE UPDATE OR DELETE ON contact_centre_event
    FOR EACH ROW EXECUTE FUNCTION contact_centre_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS contact_centre_event_append_only ON contact_centre_event;
DROP FUNCTION IF EXISTS contact_centre_event_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("contact_centre", "0002_service_catalogue")]
    operations = [migrations.RunPython(forward, backward)]
