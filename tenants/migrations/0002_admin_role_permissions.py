"""The admin role creates tenants and puts accounts in them (memberships)."""

from django.db import migrations

ADMIN_PERMISSIONS = [
    "tenants.view_tenant",
    "tenants.add_tenant",
    "tenants.change_tenant",
    "tenants.view_membership",
    "tenants.add_membership",
    "tenants.change_membership",
    "tenants.delete_membership",
]


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.filter(name="admin").first()
    if admin is None:
        return
    for perm in ADMIN_PERMISSIONS:
        app_label, codename = perm.split(".")
        admin.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
        ("cases", "0008_admin_role_permissions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
