"""The promotion gate: is a challenger worse than the champion on an unbiased
sample? Pure functions (arrays in, a verdict out; no Django).

The newest labelled orders of a live loop are mostly reviewed cases, picked
because the champion scored them high: comparing models on them favours
whatever ranks like the champion's queue. The gate compares on a sample that
stands for the whole population instead:

- **audit**: random-audit cases, each weighted by 1/π, π being the
  inclusion probability the queue mix recorded when it drew the case
  (Horvitz–Thompson: a weighted metric estimates the population's). They are
  `reserved`: no fit of a gated training learns from them, the served one
  included, so every champion is unseen on all of them;
- **matured**: a time window whose orders all have a truth (matured
  legitimate labels, outcomes, reviews), weight 1, where enough exist.

Every metric is weighted, and comes with a bootstrap interval. The verdict:

- `held` when the sample is too small (too few cases or frauds): nothing is
  promoted, and the reason says what is missing;
- `held` too when neither model beats chance on the sample (both AUC
  intervals reach 0.5): it cannot tell them apart;
- `reject` when the challenger is no better than chance (its AUC interval
  reaches 0.5) while the champion is, or worse than the champion beyond the
  noise (the interval of the paired AP difference lies below 0);
- `promote` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

PROMOTE, REJECT, HELD = "promote", "reject", "held"


@dataclass(frozen=True)
class GateSample:
    """The orders the models are compared on (held out of training), and the
    weight each stands for in the population (1/π). `reserved` are orders no
    fit may learn from, the served one included (the audit cases, decided or
    not): an audit sample is a subset of them, so a promoted challenger
    serves the fit it was compared with."""

    order_ids: np.ndarray
    weights: np.ndarray
    source: str  # "audit" or "matured"
    why: str = ""  # why this sample was chosen, shown with the verdict
    reserved: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        if len(self.order_ids) != len(self.weights):
            raise ValueError("one weight per order")
        if len(self.weights) and float(np.min(self.weights)) < 1.0:
            raise ValueError("weights are 1/π, so at least 1")


@dataclass(frozen=True)
class GatePolicy:
    min_cases: int = 200
    min_frauds: int = 10
    k_share: float = 0.05  # CP@k: precision in the top share of the population
    resamples: int = 300
    confidence: float = 0.9
    seed: int = 0


@dataclass
class GateResult:
    verdict: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def weighted_ap(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    """Average precision of the population the weighted sample stands for
    (tied scores form one threshold); NaN without both classes."""
    pos = w * y
    if pos.sum() <= 0 or pos.sum() >= w.sum():
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s, pos, wo = s[order], pos[order], w[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(pos)[last]
    seen = np.cumsum(wo)[last]
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * (tp / seen)))


def weighted_auc(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    """ROC AUC of the weighted population: the chance a fraud outscores a
    legitimate order, ties counting half."""
    pos, neg = w * y, w * (1 - y)
    if pos.sum() <= 0 or neg.sum() <= 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s, pos, neg = s[order], pos[order], neg[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tpr = np.r_[0.0, np.cumsum(pos)[last] / pos.sum()]
    fpr = np.r_[0.0, np.cumsum(neg)[last] / neg.sum()]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def weighted_cp_at_k(
    y: np.ndarray, s: np.ndarray, w: np.ndarray, k_share: float
) -> float:
    """Precision among the highest-scored `k_share` of the population: the
    rows whose cumulative weight, highest score first, fits in that share
    (at least one row)."""
    if len(y) == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    wo, yo = w[order], y[order]
    inside = np.cumsum(wo) <= max(k_share * w.sum(), wo[0])
    return float((wo[inside] * yo[inside]).sum() / wo[inside].sum())


def _metrics(y: np.ndarray, s: np.ndarray, w: np.ndarray, k: float) -> np.ndarray:
    return np.array(
        [weighted_ap(y, s, w), weighted_auc(y, s, w), weighted_cp_at_k(y, s, w, k)]
    )


_NAMES = ("ap", "auc", "cp_at_k")


def effective_size(w: np.ndarray) -> float:
    """Kish's effective sample size, (Σw)² / Σw²: how many equally weighted
    rows the weighted ones are worth. A few heavy rows among many light ones
    (audit cases drawn at a small π beside a cold start's at a large one)
    weigh as little more than themselves."""
    if len(w) == 0:
        return 0.0
    return round(float(w.sum() ** 2 / np.square(w).sum()), 1)


def gate_compare(
    y: np.ndarray,
    sample: GateSample,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    policy: GatePolicy | None = None,
) -> GateResult:
    """The verdict on a challenger, from both models' scores of the sample's
    orders (`y` their truth, 1 fraud; `champion` None when there is none).

    The intervals come from one paired bootstrap: each resample draws the
    same rows for both models, so the AP difference's interval reflects the
    noise of the comparison, not of each model alone.
    """
    policy = policy or GatePolicy()
    y = np.asarray(y, dtype=int)
    w = np.asarray(sample.weights, dtype=float)
    details: dict[str, Any] = {
        "source": sample.source,
        "selection": sample.why,
        "cases": len(y),
        "frauds": int(y.sum()),
        "population": round(float(w.sum()), 1),
        "effective_cases": effective_size(w),
        "effective_frauds": effective_size(w[y == 1]),
        "k_share": policy.k_share,
        "confidence": policy.confidence,
        "min_cases": policy.min_cases,
        "min_frauds": policy.min_frauds,
    }
    if len(y) < policy.min_cases or int(y.sum()) < policy.min_frauds:
        return GateResult(
            HELD,
            f"held: {len(y)} {sample.source} cases with {int(y.sum())} frauds; "
            f"the gate needs at least {policy.min_cases} cases and "
            f"{policy.min_frauds} frauds",
            details,
        )
    ours = _metrics(y, challenger, w, policy.k_share)
    theirs = None if champion is None else _metrics(y, champion, w, policy.k_share)
    boot_ours, boot_theirs = _bootstrap(y, w, challenger, champion, policy)
    lo, hi = (1 - policy.confidence) / 2, 1 - (1 - policy.confidence) / 2
    details["challenger"] = _with_intervals(ours, boot_ours, lo, hi)
    auc_low = details["challenger"]["auc_ci"][0]
    if theirs is not None and boot_theirs is not None:
        details["champion"] = _with_intervals(theirs, boot_theirs, lo, hi)
        diff = boot_ours[:, 0] - boot_theirs[:, 0]
        diff_ci = _interval(diff, lo, hi)
        details["ap_diff"] = _round(ours[0] - theirs[0])
        details["ap_diff_ci"] = diff_ci
    champion_low = details.get("champion", {}).get("auc_ci", [0.5])[0]
    if not auc_low > 0.5 and theirs is not None and not champion_low > 0.5:
        # Neither model beats chance here: the sample says nothing about
        # which is better, so it cannot reject one.
        return GateResult(
            HELD,
            f"held: neither model beats chance on these {len(y)} {sample.source} "
            f"cases (weighted AUC {ours[1]:.3f} against the champion's "
            f"{theirs[1]:.3f}): the sample cannot tell them apart",
            details,
        )
    if not auc_low > 0.5:
        return GateResult(
            REJECT,
            f"rejected: weighted AUC {ours[1]:.3f} "
            f"(interval from {auc_low:.3f}) is no better than chance",
            details,
        )
    if theirs is None:
        return GateResult(
            PROMOTE,
            f"promoted: no champion; weighted AP {ours[0]:.3f}, AUC {ours[1]:.3f} "
            f"on {len(y)} {sample.source} cases",
            details,
        )
    low, high = details["ap_diff_ci"]
    if high < 0:
        return GateResult(
            REJECT,
            f"rejected: weighted AP {ours[0]:.3f} < champion {theirs[0]:.3f}, "
            f"difference interval [{low:+.3f}, {high:+.3f}] below 0",
            details,
        )
    return GateResult(
        PROMOTE,
        f"promoted: weighted AP {ours[0]:.3f} vs champion {theirs[0]:.3f}, "
        f"not worse beyond the noise (difference [{low:+.3f}, {high:+.3f}])",
        details,
    )


def _bootstrap(
    y: np.ndarray,
    w: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray | None,
    policy: GatePolicy,
) -> tuple[np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(policy.seed)
    ours = np.empty((policy.resamples, 3))
    theirs = None if champion is None else np.empty((policy.resamples, 3))
    for r in range(policy.resamples):
        rows = rng.integers(0, len(y), len(y))
        ours[r] = _metrics(y[rows], challenger[rows], w[rows], policy.k_share)
        if theirs is not None and champion is not None:
            theirs[r] = _metrics(y[rows], champion[rows], w[rows], policy.k_share)
    return ours, theirs


def _interval(values: np.ndarray, lo: float, hi: float) -> list[float]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return [float("nan"), float("nan")]
    return [_round(np.quantile(finite, lo)), _round(np.quantile(finite, hi))]


def _with_intervals(
    point: np.ndarray, boot: np.ndarray, lo: float, hi: float
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, name in enumerate(_NAMES):
        out[name] = _round(point[i])
        out[f"{name}_ci"] = _interval(boot[:, i], lo, hi)
    return out


def _round(value: float) -> float:
    return round(float(value), 4)
