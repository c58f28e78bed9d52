from django.db import migrations

ROLES = {
    "reviewer": ["cases.review_case"],
    "lead": ["cases.review_case", "cases.lead_case"],
    "admin": [
        "cases.review_case",
        "cases.lead_case",
        "cases.add_apiclient",
        "cases.change_apiclient",
        "cases.view_apiclient",
        "cases.add_reasoncode",
        "cases.change_reasoncode",
        "cases.view_reasoncode",
        "cases.view_auditevent",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
        "models_ml.view_modelversion",
    ],
}

REASON_CODES = [
    ("stolen_card", "Stolen card", "fraud"),
    ("account_takeover", "Account takeover", "fraud"),
    ("card_testing", "Card testing", "fraud"),
    ("promo_abuse", "Promotion abuse", "fraud"),
    ("reseller", "Reseller / bulk buying", "fraud"),
    ("compromised_seller", "Compromised seller", "fraud"),
    ("friendly_fraud", "Friendly fraud", "fraud"),
    ("verified_customer", "Customer verified", "legitimate"),
    ("good_history", "Good order history", "legitimate"),
    ("travel_explained", "Travel explains the mismatch", "legitimate"),
    ("false_positive", "Model false positive", "legitimate"),
    ("other", "Other (see note)", "any"),
]


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                )
            )
    ReasonCode = apps.get_model("cases", "ReasonCode")
    for code, label, applies_to in REASON_CODES:
        ReasonCode.objects.get_or_create(
            code=code, defaults={"label": label, "applies_to": applies_to}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_claims_reason_codes_roles"),
        ("models_ml", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
