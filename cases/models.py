from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import Tenant


class ApiClient(models.Model):
    """A service allowed to call the API. Only a SHA-256 of its token is stored."""

    name = models.CharField(max_length=100, unique=True)
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="api_clients",
        help_text="Clients of one tenant share its entities, cases and models.",
    )
    token_prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    # DRF's IsAuthenticated asks the principal this.
    is_authenticated = True

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    WEB = "web"
    APP = "app"
    PHONE = "phone"
    POS = "pos"
    OTHER = "other"


class Order(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    # The client's tenant, copied: features, linked orders, queues and
    # dashboards filter on it without a join. Order ids stay unique per
    # client (each backend numbers its own orders; a retry comes from the
    # same client), not per tenant.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    order_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(help_text="The order's own time.")
    received_at = models.DateTimeField(auto_now_add=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    customer_id = models.CharField(max_length=128)
    account_created_at = models.DateTimeField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True)
    device_id = models.CharField(max_length=128, blank=True)
    ip_address = models.CharField(max_length=45, blank=True)
    card_fingerprint = models.CharField(max_length=128, blank=True)
    card_bin = models.CharField(max_length=8, blank=True)
    card_country = models.CharField(max_length=2, blank=True)
    billing_country = models.CharField(max_length=2, blank=True)
    billing_postcode = models.CharField(max_length=16, blank=True)
    shipping_country = models.CharField(max_length=2, blank=True)
    shipping_postcode = models.CharField(max_length=16, blank=True)
    seller_id = models.CharField(max_length=128, blank=True)
    channel = models.CharField(max_length=8, choices=Channel, default="web")
    item_count = models.PositiveIntegerField(default=1)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "order_id"], name="order_id_unique_per_client"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="order_amount_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["created_at"]),
            models.Index(fields=["tenant", "created_at"]),
            models.Index(fields=["received_at"]),
            models.Index(fields=["order_id"]),
            # Linked orders and entity pages: one tenant's orders of a value.
            models.Index(fields=["tenant", "customer_id", "created_at"]),
            models.Index(fields=["tenant", "card_fingerprint", "created_at"]),
            models.Index(fields=["tenant", "device_id", "created_at"]),
            models.Index(fields=["tenant", "ip_address", "created_at"]),
            models.Index(fields=["tenant", "email", "created_at"]),
            models.Index(fields=["tenant", "seller_id", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.order_id


class CaseQuerySet(models.QuerySet):
    def pending(self) -> "CaseQuerySet":
        """Cases still waiting for a decision (first review, QA or a lead)."""
        return self.filter(status__in=Case.PENDING)

    def by_priority(self) -> "CaseQuerySet":
        return self.order_by("-priority", "id")

    def unclaimed(self, now: datetime) -> "CaseQuerySet":
        """No reviewer holds a live lease on them."""
        live = Claim.objects.filter(
            case=models.OuterRef("pk"), released_at__isnull=True, expires_at__gt=now
        )
        return self.exclude(models.Exists(live))

    def not_deferred_for(self, user_id: int, now: datetime) -> "CaseQuerySet":
        """Not skipped by this reviewer, nor snoozed for everyone, until now."""
        deferred = CaseDeferral.objects.filter(
            Q(reviewer_id=user_id) | Q(reviewer__isnull=True),
            case=models.OuterRef("pk"),
            until__gt=now,
        )
        return self.exclude(models.Exists(deferred))


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        QA = "qa", "Awaiting QA review"
        ESCALATED = "escalated", "Escalated to a lead"
        DECIDED = "decided"

    class QueueReason(models.TextChoices):
        HIGH_RISK = "high_risk", "High expected loss"
        EXPLORATION = "exploration", "Model uncertain"
        AUDIT = "audit", "Random audit"
        NO_MODEL = "no_model", "No model yet"
        RULE = "rule", "Rule"

    PENDING = (Status.OPEN, Status.QA, Status.ESCALATED)

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="case")
    # The order's tenant, copied for the queue's keyset index.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default="open")
    probability = models.FloatField(null=True, help_text="Latest fraud probability.")
    top_reason = models.CharField(max_length=200, blank=True)
    priority = models.FloatField(help_text="Expected loss: probability × amount.")
    queue_reason = models.CharField(max_length=12, choices=QueueReason.choices)
    selection_probability = models.FloatField(default=1.0)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "status", "-priority", "id"]),
            # The queue's default view: a tenant's pending cases, by priority.
            models.Index(
                fields=["tenant", "-priority", "id"],
                condition=Q(status__in=["open", "qa", "escalated"]),
                name="case_pending_by_tenant",
            ),
        ]
        permissions = [
            ("review_case", "Can claim and decide cases"),
            ("lead_case", "Can reassign, override, run QA and see metrics"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(selection_probability__gt=0, selection_probability__lte=1),
                name="case_selection_probability_in_0_1",
            )
        ]

    def __str__(self) -> str:
        return f"case {self.pk}"


class Claim(models.Model):
    """A reviewer's lease on a case. At most one live claim per case (DB-enforced)."""

    class End(models.TextChoices):
        DECIDED = "decided"
        RELEASED = "released"
        EXPIRED = "expired"
        REASSIGNED = "reassigned"
        ESCALATED = "escalated"
        SKIPPED = "skipped"
        SNOOZED = "snoozed"
        UNDONE = "undone"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="claims")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    claimed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    end = models.CharField(max_length=10, choices=End.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(released_at__isnull=True),
                name="one_open_claim_per_case",
            )
        ]
        indexes = [models.Index(fields=["reviewer", "released_at"])]

    def __str__(self) -> str:
        return f"claim {self.pk} on case {self.case_id}"


class ReasonCode(models.Model):
    """The configurable list of reasons a reviewer picks from."""

    class AppliesTo(models.TextChoices):
        FRAUD = "fraud"
        LEGITIMATE = "legitimate"
        ANY = "any"

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    applies_to = models.CharField(
        max_length=10, choices=AppliesTo.choices, default="any"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["applies_to", "code"]

    def __str__(self) -> str:
        return self.label


class Label(models.Model):
    """Ground truth for an order. Never edited: a correction is a newer label."""

    class Value(models.TextChoices):
        FRAUD = "fraud"
        LEGITIMATE = "legitimate"

    class Source(models.TextChoices):
        REVIEWER = "reviewer"
        CHARGEBACK = "chargeback"
        MERCHANT = "merchant", "Merchant confirmation"
        # Approved, undisputed past the dispute window (services.maturity).
        MATURED = "matured", "Matured (no dispute)"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="labels")
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="labels"
    )
    value = models.CharField(max_length=10, choices=Value.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    reasons = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    known_at = models.DateTimeField(
        db_index=True, help_text="When the label became known: features use this."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["order", "-known_at"])]
        constraints = [
            # services.maturity inserts with ON CONFLICT DO NOTHING against it.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(source="matured"),
                name="label_one_matured_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.value} ({self.source})"

    @property
    def is_fraud(self) -> bool:
        return self.value == self.Value.FRAUD


class AuditEvent(models.Model):
    """Append-only. PostgreSQL refuses UPDATE and DELETE on this table (trigger)."""

    actor = models.CharField(max_length=150, help_text="user:<name>, client:<name>")
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type}:{self.object_id}"


class IdempotencyRecord(models.Model):
    """The first response to an Idempotency-Key, replayed byte for byte."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"], name="idempotency_key_once"
            )
        ]

    def __str__(self) -> str:
        return self.key


class QueueMixRun(models.Model):
    """One pass of the queue mix over the orders received in a time window."""

    window_start = models.DateTimeField()
    window_end = models.DateTimeField(unique=True)
    high_risk = models.PositiveIntegerField(default=0)
    exploration = models.PositiveIntegerField(default=0)
    audit = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"mix {self.window_start:%Y-%m-%d %H:%M}–{self.window_end:%H:%M}"


class WebhookEndpoint(models.Model):
    """A client's callback URL. Two secrets sign during a rotation."""

    class Event(models.TextChoices):
        CASE_DECIDED = "case.decided"
        CASE_OVERRIDDEN = "case.overridden"
        DECISION_CHANGED = "order.decision_changed"

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event types to send.")
    secret = models.CharField(max_length=64, editable=False)
    previous_secret = models.CharField(max_length=64, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint; retried until delivered or dead."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        DEAD = "dead", "Dead letter"
        CANCELLED = "cancelled", "Cancelled (endpoint deactivated)"

    event_id = models.UUIDField(unique=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=40)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default="pending")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "order", "id"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class LabelDailyStats(models.Model):
    """What stays of purged labels when RETENTION_KEEP_LABEL_STATS is on."""

    day = models.DateField()
    source = models.CharField(max_length=10, choices=Label.Source.choices)
    value = models.CharField(max_length=10, choices=Label.Value.choices)
    labels = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source", "value"], name="label_stats_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.value}: {self.labels}"


class CaseDeferral(models.Model):
    """A case kept out of "next case" until a time.

    A skip hides it from the reviewer who skipped (`reviewer` set); a snooze
    hides it from everyone (`reviewer` empty). The queue page still lists it.
    """

    class Kind(models.TextChoices):
        SKIP = "skip"
        SNOOZE = "snooze"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deferrals")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Hidden from this reviewer only; empty: from everyone.",
    )
    until = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "until"])]

    def __str__(self) -> str:
        return f"{self.kind} case {self.case_id} until {self.until:%Y-%m-%d %H:%M}"


class CaseNote(models.Model):
    """A comment on a case, apart from the decision; never edited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"note {self.pk} on case {self.case_id}"
