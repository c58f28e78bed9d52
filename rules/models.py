"""Rules and block/allow lists: what a lead decides before the next model exists.

A rule is a CEL expression over an order's fields, its features, the model's
score and list membership (`rules.language`); how rules, lists and the model
combine into one decision is `rules.engine`. Every change of a rule is a new
`RuleVersion` (and an audit event, written by the review side).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenants.models import Tenant


class Rule(models.Model):
    class Action(models.TextChoices):
        ALLOW = "allow", "Allow (approve, skip the model's decision)"
        DECLINE = "decline", "Decline"
        REVIEW = "review", "Send to review"
        BOOST = "boost", "Boost queue priority"

    class State(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        DISABLED = "disabled"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expression = models.TextField(help_text="A CEL expression that is true or false.")
    action = models.CharField(max_length=8, choices=Action.choices)
    boost = models.FloatField(
        default=0, help_text="Added to a case's priority (boost rules only)."
    )
    state = models.CharField(max_length=8, choices=State.choices, default="draft")
    version = models.PositiveIntegerField(default=1)
    run_errors = models.PositiveIntegerField(
        default=0, help_text="Orders on which the rule failed and was skipped."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="rule_name_once")
        ]
        indexes = [models.Index(fields=["tenant", "state"])]

    def __str__(self) -> str:
        return self.name


class RuleVersion(models.Model):
    """A rule as it was after one change; never edited."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    expression = models.TextField()
    action = models.CharField(max_length=8, choices=Rule.Action.choices)
    boost = models.FloatField(default=0)
    state = models.CharField(max_length=8, choices=Rule.State.choices)
    changed_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.number}"


class ListEntryQuerySet(models.QuerySet["ListEntry"]):
    def live(self, now: object) -> ListEntryQuerySet:
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ListEntry(models.Model):
    """One value on a tenant's block or allow list.

    `value` is normalised (`rules.lists.list_value`): e-mails in lower case,
    IP addresses and ranges as a network in CIDR form ("203.0.113.0/24",
    "198.51.100.7/32"), so membership is an exact, indexed lookup.
    """

    class Kind(models.TextChoices):
        BLOCK = "block"
        ALLOW = "allow"

    class EntityType(models.TextChoices):
        CARD = "card"
        EMAIL = "email"
        DEVICE = "device"
        IP = "ip", "IP address or range"
        CUSTOMER = "customer"
        SELLER = "seller"

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    entity_type = models.CharField(max_length=8, choices=EntityType.choices)
    value = models.CharField(max_length=255)
    expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    added_by = models.CharField(max_length=150, help_text="user:<name>, client:<name>")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ListEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "list entries"
        constraints = [
            # Also the membership index: tenant = … AND value IN (…).
            models.UniqueConstraint(
                fields=["tenant", "value", "entity_type", "kind"],
                name="list_entry_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.entity_type} {self.value}"
