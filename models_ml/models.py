from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q

from tenants.models import Tenant


class GateVerdict(models.TextChoices):
    PROMOTE = "promote"
    REJECT = "reject"
    HELD = "held"


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        TRAINING = "training"
        CANDIDATE = "candidate"
        ACTIVE = "active"
        REJECTED = "rejected"
        RETIRED = "retired"
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status.choices, default="training")
    # Whose labels trained it and whose orders it scores: one champion per
    # tenant, never trained on another tenant's labels.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    artifact_path = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    sklearn_version = models.CharField(max_length=20, blank=True)
    feature_names = models.JSONField(default=list)
    params = models.JSONField(default=dict)
    data_fingerprint = models.CharField(max_length=64, blank=True)
    training_rows = models.PositiveIntegerField(default=0)
    label_counts = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict)
    training_seconds = models.FloatField(null=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promotion_reason = models.TextField(blank=True)
    # The unbiased gate's comparison (`models_ml.gate`): sample, weighted
    # metrics with intervals, the reason; empty when trained without it.
    gate_verdict = models.CharField(
        max_length=8, choices=GateVerdict.choices, blank=True
    )
    gate = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(status="active"),
                name="one_active_model_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.pk} ({self.status})"


class ScoreQuerySet(models.QuerySet["Score"]):
    def latest_per_order(self) -> ScoreQuerySet:
        """Only the latest score of each order: re-scoring adds rows, and the
        newest row (highest id) is the order's current score."""
        newer = Score.objects.filter(
            order_id=OuterRef("order_id"), id__gt=OuterRef("id")
        )
        return self.filter(~Exists(newer))


class Score(models.Model):
    """One scoring of an order by one model version. Re-scoring adds a row."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REVIEW = "review"
        DECLINE = "decline"

    order = models.ForeignKey(
        "cases.Order", on_delete=models.CASCADE, related_name="scores"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, related_name="scores"
    )
    probability = models.FloatField(null=True, help_text="Fraud probability, 0..1.")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    features = models.JSONField(default=dict)
    feature_version = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",  # rows written by raw SQL or COPY without it: unknown
        help_text="features.FEATURE_VERSION of `features`; blank if unknown.",
    )
    base_value = models.FloatField(null=True, help_text="SHAP base value, log-odds.")
    contributions = models.JSONField(
        null=True,
        help_text="Top SHAP contributions in log-odds, null if not explained.",
    )
    # A re-score caused by a fraud label on a linked order (same-day
    # feedback, `cases.services.linked`); empty for intake and retraining.
    cause_label = models.ForeignKey(
        "cases.Label",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Rules and lists (the `rules` app): what the model alone decided, and
    # every rule and list entry that matched, deciding or not.
    model_decision = models.CharField(max_length=8, blank=True)
    rule_hits = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScoreQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["order", "-id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=1)
                | Q(probability__isnull=True),
                name="score_probability_in_0_1",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.probability}"

    @property
    def deciding_hit(self) -> dict[str, Any] | None:
        return deciding_hit(self.rule_hits)


def deciding_hit(rule_hits: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The rule or list entry that made a score's decision, if one did."""
    return next((hit for hit in rule_hits or [] if hit.get("decided")), None)


class FeatureTile(models.Model):
    """Partial aggregates of one key value over one time tile (see `tiles`).

    Several rows may hold the same tile (`shard`): concurrent intakes of one
    busy seller add to different rows instead of queueing on one row lock;
    reads sum them. Written only by `feature_state` (upserts that add).
    """

    key = models.CharField(max_length=16)
    res = models.CharField(max_length=1)
    value = models.TextField()
    start = models.BigIntegerField(help_text="epoch milliseconds")
    shard = models.SmallIntegerField(default=0)
    n = models.BigIntegerField(default=0)
    cents = models.BigIntegerField(default=0)
    new_cards = models.BigIntegerField(default=0)
    labels = models.BigIntegerField(default=0)
    frauds = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "res", "value", "start", "shard"], name="tile_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value} {self.res}@{self.start}#{self.shard}"
