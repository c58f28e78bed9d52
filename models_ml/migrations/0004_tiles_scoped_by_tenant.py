"""Feature tiles hold tenant-scoped entity values ("<tenant>\\x1e<value>",
models_ml.frames.scoped) since tenants exist: the tiles of the orders stored
before go to the "default" tenant that cases.0014 put those orders in."""

from django.db import migrations

TENANT_MARK = "\x1e"
SEPARATOR = "\x1f"  # between the two values of a pair key (tiles.SEPARATOR)
PAIR_KEYS = ("device_card", "customer_device", "customer_card")


def _scope_tiles(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    FeatureTile = apps.get_model("models_ml", "FeatureTile")
    if not FeatureTile.objects.exists():
        return
    tenant = Tenant.objects.get(name="default")
    prefix = f"{tenant.pk}{TENANT_MARK}"
    table = FeatureTile._meta.db_table
    marks = ", ".join(["%s"] * len(PAIR_KEYS))
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = %s || replace(value, %s, %s) "
            f"WHERE key IN ({marks})",
            [prefix, SEPARATOR, SEPARATOR + prefix, *PAIR_KEYS],
        )
        cursor.execute(
            f"UPDATE {table} SET value = %s || value WHERE key NOT IN ({marks})",
            [prefix, *PAIR_KEYS],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("models_ml", "0003_remove_modelversion_base_value"),
        ("cases", "0014_tenants"),
    ]

    operations = [migrations.RunPython(_scope_tiles, migrations.RunPython.noop)]
