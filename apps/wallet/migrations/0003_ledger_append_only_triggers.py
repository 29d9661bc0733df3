"""The ledger is append-only even for someone with a SQL shell or a bulk queryset update:
the database itself refuses UPDATE (both backends) and DELETE (PostgreSQL) of ledger rows.

SQLite gets no DELETE trigger because Django's test flush empties tables with plain DELETE
statements; PostgreSQL's flush uses TRUNCATE, which row triggers do not see."""
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION wallet_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER wallet_ledger_no_update BEFORE UPDATE ON wallet_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
CREATE TRIGGER wallet_ledger_no_delete BEFORE DELETE ON wallet_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallet_ledger_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS wallet_ledger_no_update ON wallet_ledgerentry;
DROP TRIGGER IF EXISTS wallet_ledger_no_delete ON wallet_ledgerentry;
DROP FUNCTION IF EXISTS wallet_ledger_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER wallet_ledger_no_update BEFORE UPDATE ON wallet_ledgerentry
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS wallet_ledger_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0002_holds_spend_redemption")]
    operations = [migrations.RunPython(forward, backward)]
