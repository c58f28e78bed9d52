from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.services.rescoring import orders_rescore, rescore_candidates
from cases.services.training import model_retrain, tenants_with_labels
from models_ml.models import ModelVersion
from models_ml.services import TrainingDataError
from tenants.models import Tenant
from tenants.services import tenant_find


class Command(BaseCommand):
    help = (
        "Train a challenger per tenant on that tenant's labels; promote it if the "
        "unbiased gate passes it (a tenant's first model is installed even when "
        "the gate holds for too few audit cases)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Train on unchanged data."
        )
        parser.add_argument(
            "--unless-active",
            action="store_true",
            help="Skip a tenant that already has an active model (make run).",
        )
        parser.add_argument(
            "--tenant", help="Only this tenant (name or slug); default: every one."
        )

    def handle(self, *args: object, **options: object) -> None:
        if options["tenant"] is not None:
            tenant = tenant_find(str(options["tenant"]))
            if tenant is None:
                raise CommandError(f"no tenant named {options['tenant']!r}")
            tenants = [tenant]
        else:
            with_models = ModelVersion.objects.filter(status="active").values("tenant")
            tenants = sorted(
                {*tenants_with_labels(), *Tenant.objects.filter(pk__in=with_models)},
                key=lambda t: t.pk,
            )
        if not tenants:
            raise CommandError("no labelled orders in any tenant: nothing to train on")
        failures = [
            self._train(
                tenant,
                force=bool(options["force"]),
                skip=bool(options["unless_active"]),
            )
            for tenant in tenants
        ]
        if all(failures):
            raise CommandError("; ".join(f for f in failures if f))

    def _train(self, tenant: Tenant, *, force: bool, skip: bool) -> str:
        """Train one tenant; a message when it ends with no active model."""
        actives = ModelVersion.objects.filter(tenant=tenant, status="active")
        active = actives.first()
        if skip and active is not None:
            self.stdout.write(f"{tenant}: model v{active.pk} is active: not training.")
            return ""
        try:
            version = model_retrain(tenant.pk, force=force, first_model_if_held=True)
        except TrainingDataError as exc:
            active = actives.first()
            if active is None:
                return f"{tenant}: {exc}"
            self.stdout.write(
                f"{tenant}: not trained: {exc}. Active model stays v{active.pk}."
            )
            return ""
        holdout = version.metrics.get("holdout") or {}
        self.stdout.write(
            f"{tenant}: model v{version.pk}: {version.status} "
            f"({version.promotion_reason}); "
            f"holdout AP {holdout.get('ap')}, AUC {holdout.get('auc')}"
        )
        if version.status == ModelVersion.Status.ACTIVE:
            scored = orders_rescore(rescore_candidates(tenant.pk))
            self.stdout.write(f"{tenant}: re-scored {scored} open or recent orders.")
        return ""
