"""A model version belongs to the tenant whose labels trained it, one active
version per tenant: the versions trained before tenants existed go to the
"default" tenant (cases.0014 put the orders of that time there)."""

import django.db.models.deletion
from django.db import migrations, models


def _versions_to_default(apps, schema_editor):
    ModelVersion = apps.get_model("models_ml", "ModelVersion")
    if not ModelVersion.objects.exists():
        return
    Tenant = apps.get_model("tenants", "Tenant")
    tenant, _ = Tenant.objects.get_or_create(
        name="default", defaults={"slug": "default"}
    )
    ModelVersion.objects.update(tenant=tenant)


class Migration(migrations.Migration):
    dependencies = [
        ("models_ml", "0004_tiles_scoped_by_tenant"),
        ("tenants", "0002_admin_role_permissions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="modelversion",
            name="one_active_model_version",
        ),
        migrations.AddField(
            model_name="modelversion",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.RunPython(_versions_to_default, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="modelversion",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "active")),
                fields=("tenant",),
                name="one_active_model_per_tenant",
            ),
        ),
    ]
