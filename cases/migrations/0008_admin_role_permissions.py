from django.db import migrations

ADMIN_PERMISSIONS = [
    "cases.view_order",
    "cases.view_case",
    "cases.view_label",
    "cases.add_webhookendpoint",
    "cases.change_webhookendpoint",
    "cases.view_webhookendpoint",
    "cases.change_webhookdelivery",
    "cases.view_webhookdelivery",
    "cases.delete_reasoncode",
]


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.get(name="admin")
    for perm in ADMIN_PERMISSIONS:
        app_label, codename = perm.split(".")
        admin.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_label_daily_stats")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
