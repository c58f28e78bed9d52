"""Tenants own API clients, orders and cases. Existing rows (and users) go to
a tenant named "default", created only when there are any."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _to_default_tenant(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    Membership = apps.get_model("tenants", "Membership")
    ApiClient = apps.get_model("cases", "ApiClient")
    Order = apps.get_model("cases", "Order")
    Case = apps.get_model("cases", "Case")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    if not (
        ApiClient.objects.exists() or Order.objects.exists() or User.objects.exists()
    ):
        return
    tenant, _ = Tenant.objects.get_or_create(
        name="default", defaults={"slug": "default"}
    )
    ApiClient.objects.filter(tenant__isnull=True).update(tenant=tenant)
    Order.objects.filter(tenant__isnull=True).update(tenant=tenant)
    Case.objects.filter(tenant__isnull=True).update(tenant=tenant)
    Membership.objects.bulk_create(
        Membership(user_id=pk, tenant=tenant)
        for pk in User.objects.values_list("pk", flat=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_case_deferrals_and_notes"),
        ("tenants", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="cases_case_status_cb4d66_idx",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_pending_by_priority",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="cases_order_custome_13552c_idx",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="cases_order_card_fi_060e56_idx",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="cases_order_device__243e6c_idx",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="cases_order_ip_addr_753e7b_idx",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="cases_order_email_fff75e_idx",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="cases_order_seller__59bad2_idx",
        ),
        migrations.AddField(
            model_name="apiclient",
            name="tenant",
            field=models.ForeignKey(
                help_text="Clients of one tenant share its entities, cases and models.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="api_clients",
                to="tenants.tenant",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="tenant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.RunPython(_to_default_tenant, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apiclient",
            name="tenant",
            field=models.ForeignKey(
                help_text="Clients of one tenant share its entities, cases and models.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="api_clients",
                to="tenants.tenant",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["tenant", "status", "-priority", "id"],
                name="cases_case_tenant__925144_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "qa", "escalated"])),
                fields=["tenant", "-priority", "id"],
                name="case_pending_by_tenant",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "created_at"], name="cases_order_tenant__686bce_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "customer_id", "created_at"],
                name="cases_order_tenant__b110b2_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "card_fingerprint", "created_at"],
                name="cases_order_tenant__e76c84_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "device_id", "created_at"],
                name="cases_order_tenant__b96d30_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "ip_address", "created_at"],
                name="cases_order_tenant__ccf366_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "email", "created_at"],
                name="cases_order_tenant__c136df_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["tenant", "seller_id", "created_at"],
                name="cases_order_tenant__99799a_idx",
            ),
        ),
    ]
