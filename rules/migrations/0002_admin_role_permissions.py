from django.db import migrations

# The admin role (cases.0004) sees rules and their versions, and manages lists.
ADMIN_PERMISSIONS = [
    "rules.view_rule",
    "rules.view_ruleversion",
    "rules.view_listentry",
    "rules.add_listentry",
    "rules.change_listentry",
    "rules.delete_listentry",
]


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _created = Group.objects.get_or_create(name="admin")
    for perm in ADMIN_PERMISSIONS:
        app_label, codename = perm.split(".")
        admin.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0001_initial"),
        ("cases", "0008_admin_role_permissions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
