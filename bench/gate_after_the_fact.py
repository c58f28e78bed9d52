"""The gate's verdicts judged after the fact, on a live replay's final audit sample.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/riskreview_replay \\
        .venv/bin/python -m bench.gate_after_the_fact [--replay-json FILE]

After `manage.py replay --mode live`, every version the gate compared with a
champion is compared with that champion again, on every audit case decided
by the end of the run, each weighted by 1/π. No gated fit learns from an
order with an audit case (`cases.services.gate_samples`), and a case decided
after a version trained was no label then, so neither model has seen the
sample. This is the issue's check, "0 promotions of a worse challenger,
counted from the audit-sample comparison after the fact": per verdict, how
many versions were worse than their champion beyond the noise (the 90 %
interval of the weighted AP difference below 0), or better beyond it.
`--replay-json` (the replay's `--json` file) adds each training's day.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from typing import Any

import numpy as np


def after_the_fact(replay_json: str | None) -> dict[str, Any]:
    from cases.datasets import training_set
    from cases.services.gate_samples import audit_sample
    from models_ml.gate import GatePolicy, gate_compare
    from models_ml.models import ModelVersion
    from models_ml.scoring import model_version_load

    compared = list(
        ModelVersion.objects.exclude(gate__isnull=True)
        .filter(gate__has_key="champion_version")
        .order_by("pk")
    )
    if not compared:
        raise SystemExit("no version was compared with a champion in this database")
    tenants = {v.tenant_id for v in compared}
    if len(tenants) != 1:
        raise SystemExit(f"expected one replayed tenant, found {sorted(tenants)}")
    (tenant_id,) = tenants
    data = training_set(tenant_id)
    audit = audit_sample(tenant_id, data)
    position = {int(i): n for n, i in enumerate(data.order_ids)}
    rows = np.array([position[int(i)] for i in audit.order_ids], dtype=np.int64)
    features = data.features.iloc[rows].to_numpy(dtype=float)
    truth = data.target[rows]
    days = _training_days(replay_json)
    scores: dict[int, np.ndarray] = {}

    def scored(version_id: int) -> np.ndarray:
        if version_id not in scores:
            version = ModelVersion.objects.get(pk=version_id)
            scores[version_id] = model_version_load(version).predict(features)
        return scores[version_id]

    policy = GatePolicy(min_cases=0, min_frauds=0)
    judged = []
    for version in compared:
        champion_id = int(version.gate["champion_version"])
        result = gate_compare(
            truth, audit, scored(version.pk), scored(champion_id), policy
        )
        low, high = result.details["ap_diff_ci"]
        verdict = "worse" if high < 0 else "better" if low > 0 else "tie"
        judged.append(
            {
                "version": version.pk,
                "day": days.get(version.pk),
                "verdict": version.gate_verdict,
                "gate_source": version.gate.get("source"),
                "champion": champion_id,
                "ap": result.details["challenger"]["ap"],
                "champion_ap": result.details["champion"]["ap"],
                "ap_diff": result.details["ap_diff"],
                "ap_diff_ci": [low, high],
                "after_the_fact": verdict,
            }
        )
    tally = Counter((j["verdict"], j["after_the_fact"]) for j in judged)
    return {
        "audit_cases": len(truth),
        "audit_frauds": int(truth.sum()),
        "population": round(float(audit.weights.sum()), 1),
        "versions": judged,
        "by_verdict": {f"{v} / {a}": n for (v, a), n in sorted(tally.items())},
        "worse_promotions": tally[("promote", "worse")],
    }


def _training_days(replay_json: str | None) -> dict[int, str]:
    if replay_json is None:
        return {}
    with open(replay_json) as handle:
        trainings = json.load(handle).get("trainings", [])
    return {t["version"]: t["day"] for t in trainings if "version" in t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replay-json", help="the replay's --json file")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "riskreview.settings")
    import django

    django.setup()
    print(json.dumps(after_the_fact(args.replay_json), indent=2))


if __name__ == "__main__":
    main()
